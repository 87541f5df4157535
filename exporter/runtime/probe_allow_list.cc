#include "exporter/runtime/probe_allow_list.h"

namespace mailtls::exporter {

bool matches_allow_pattern(const std::string& pattern, const std::string& domain) {
  if (pattern.rfind("*.", 0) == 0) {
    const std::string suffix = pattern.substr(1);  // ".example.com"
    return domain.size() > suffix.size() &&
           domain.compare(domain.size() - suffix.size(), suffix.size(), suffix) == 0;
  }
  return pattern == domain;
}

std::optional<DomainConfig> probe_target(const Config& config, const std::string& name) {
  for (const auto& d : config.domains) {
    if (d.name == name) return d;
  }
  for (const auto& p : config.probe_allow_list) {
    if (matches_allow_pattern(p, name)) {
      DomainConfig d;
      d.name = name;
      d.interval = config.interval;
      d.timeout = config.timeout;
      return d;
    }
  }
  return std::nullopt;
}

}  // namespace mailtls::exporter
