#pragma once
// Prometheus says how long it waits for a scrape in X-Prometheus-Scrape-Timeout-Seconds ("10",
// "9.5"). The header comes from whoever asks /probe, so it is parsed strictly.

#include <chrono>
#include <optional>
#include <string_view>

namespace mailtls::exporter {

// The time a /probe may take to answer a scrape with this header: the value less a 500 ms margin.
// Empty when the header is not a plain finite decimal number of seconds (no sign, no trailing
// text, not inf or nan) greater than the margin and at most one day; the probe then keeps its
// configured timeout.
std::optional<std::chrono::milliseconds> probe_budget_for_scrape_timeout(std::string_view header);

}  // namespace mailtls::exporter
