#pragma once
// Which domains /probe may probe: a configured one (with its own checks and timeout), or a
// name that matches an entry of probe_allow_list ("example.com" exactly, "*.example.com" any
// name below it), probed with the defaults.

#include <optional>
#include <string>

#include "exporter/config/config.h"

namespace mailtls::exporter {

// True when `pattern` (an entry of probe_allow_list) allows `domain`.
bool matches_allow_pattern(const std::string& pattern, const std::string& domain);

// The settings /probe uses for `name`; empty when it may not probe it.
std::optional<DomainConfig> probe_target(const Config& config, const std::string& name);

}  // namespace mailtls::exporter
