#pragma once
// Logging through spdlog in the two formats Prometheus exporters use: logfmt and JSON lines,
// written to stderr.

#include <spdlog/spdlog.h>

#include <initializer_list>
#include <string>
#include <string_view>

namespace mailtls::exporter {

// One structured field of a log line: `domain=example.com` in logfmt, `"domain":"example.com"`
// in JSON, so a log query can select by it. The keys in use are kept stable and listed in
// docs/logging.md: domain, mx, address, err, path, remote, file.
struct LogField {
  std::string_view key;
  std::string_view value;
};

// Logs `msg` with fields: log_event(spdlog::level::warn, "probe failed", {{"domain", d}, {"err", e}}).
void log_event(spdlog::level::level_enum level, std::string_view msg,
               std::initializer_list<LogField> fields);

// The line the formatter makes of a message and its fields; exposed for tests.
std::string format_log_line(bool json, const std::string& ts, const std::string& level,
                            std::string_view msg, std::initializer_list<LogField> fields);

// level: debug|info|warn|error; format: logfmt|json. Replaces the default spdlog logger.
void setup_logging(const std::string& level, const std::string& format);

// Escaping used by the formatters, exposed for tests.
std::string logfmt_quote(const std::string& s);
std::string json_quote(const std::string& s);

}  // namespace mailtls::exporter
