#pragma once
// Logging through spdlog in the two formats Prometheus exporters use: logfmt and JSON lines,
// written to stderr.

#include <string>

namespace mailtls::exporter {

// level: debug|info|warn|error; format: logfmt|json. Replaces the default spdlog logger.
void setup_logging(const std::string& level, const std::string& format);

// Escaping used by the formatters, exposed for tests.
std::string logfmt_quote(const std::string& s);
std::string json_quote(const std::string& s);

}  // namespace mailtls::exporter
