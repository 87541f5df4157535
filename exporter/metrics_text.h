#pragma once
// Renders collectables in the Prometheus text exposition format (version 0.0.4).

#include <prometheus/collectable.h>
#include <prometheus/metric_family.h>

#include <memory>
#include <string>
#include <vector>

namespace mailtls::exporter {

inline constexpr const char* kMetricsContentType = "text/plain; version=0.0.4; charset=utf-8";

std::string render_metrics(const std::vector<std::shared_ptr<prometheus::Collectable>>& sources);
std::string render_metrics_families(const std::vector<prometheus::MetricFamily>& families);

}  // namespace mailtls::exporter
