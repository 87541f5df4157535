#include "exporter/http/scrape_timeout.h"

#include <charconv>
#include <cmath>

namespace mailtls::exporter {
namespace {

constexpr double kMarginSeconds = 0.5;
// No probe timeout is longer; a larger value could not shorten one, and capping it keeps the
// conversion to milliseconds in range.
constexpr double kMaxSeconds = 86400;

}  // namespace

std::optional<std::chrono::milliseconds> probe_budget_for_scrape_timeout(std::string_view header) {
  if (header.empty() || header.size() > 32) return std::nullopt;
  // from_chars takes no sign other than '-', no leading space and no hex prefix, and says how
  // much it used: "5abc", " 5" and "0x10" are refused (std::stod took them).
  double seconds = 0;
  const auto [end, ec] = std::from_chars(header.data(), header.data() + header.size(), seconds,
                                         std::chars_format::fixed);
  if (ec != std::errc() || end != header.data() + header.size()) return std::nullopt;
  if (!std::isfinite(seconds) || seconds <= kMarginSeconds || seconds > kMaxSeconds) return std::nullopt;
  return std::chrono::milliseconds(std::llround((seconds - kMarginSeconds) * 1000));
}

}  // namespace mailtls::exporter
