#pragma once
// Which per-domain series /metrics and /probe carry: the configuration's `metrics.profile`
// (docs/metrics.md, "Profiles"). kFull: every family of docs/metrics.md. kLean: for a domain
// where nothing is wrong only the series alerts and the overview need (about 20 for a healthy
// domain with one MX host), the full detail while something is wrong; never the handshake
// histogram. exporter/exposition/lean_profile.h makes the cut.

#include <optional>
#include <string_view>

namespace mailtls::exporter {

enum class MetricsProfile { kFull, kLean };

constexpr std::string_view to_string(MetricsProfile p) {
  switch (p) {
    case MetricsProfile::kFull: return "full";
    case MetricsProfile::kLean: return "lean";
  }
  return "full";
}

constexpr std::optional<MetricsProfile> parse_metrics_profile(std::string_view text) {
  if (text == "full") return MetricsProfile::kFull;
  if (text == "lean") return MetricsProfile::kLean;
  return std::nullopt;
}

}  // namespace mailtls::exporter
