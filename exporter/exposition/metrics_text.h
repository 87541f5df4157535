#pragma once
// The Prometheus text exposition format (version 0.0.4), written line for line as
// prometheus-cpp's TextSerializer writes it (same number format, same label escaping), but
// appended to a caller's string instead of through an ostream. This lets /metrics render each
// domain's samples once, when its probe finishes, and a scrape only concatenate them
// (ProbeResultsCollector). One difference: a HELP text is escaped (\\ and \n) as the format
// requires; prometheus-cpp writes it raw. No HELP text of ours contains either character.

#include <prometheus/collectable.h>
#include <prometheus/metric_family.h>

#include <memory>
#include <string>
#include <vector>

namespace mailtls::exporter {

inline constexpr const char* kMetricsContentType = "text/plain; version=0.0.4; charset=utf-8";

// "# HELP <name> <help>\n" (left out when help is empty), then "# TYPE <name> <type>\n".
void append_family_header(std::string& out, const prometheus::MetricFamily& family);
// Every sample line of the family; a histogram writes _count, _sum and its _bucket lines.
void append_family_samples(std::string& out, const prometheus::MetricFamily& family);
// Header and samples of each family in turn.
void append_families(std::string& out, const std::vector<prometheus::MetricFamily>& families);
std::string render_metrics_families(const std::vector<prometheus::MetricFamily>& families);
// Collects every source and appends its families.
void append_collected(std::string& out,
                      const std::vector<std::shared_ptr<prometheus::Collectable>>& sources);

}  // namespace mailtls::exporter
