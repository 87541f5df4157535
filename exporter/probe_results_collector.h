#pragma once
// Serves the metrics of the latest probe of every domain. /metrics reads from here and never
// probes inline; a domain dropped from the config is dropped from here too.
// Thread-safe: probes store results while scrapes collect.

#include <prometheus/collectable.h>
#include <prometheus/metric_family.h>

#include <map>
#include <mutex>
#include <set>
#include <string>
#include <vector>

namespace mailtls::exporter {

class ProbeResultsCollector final : public prometheus::Collectable {
 public:
  void set(const std::string& domain, std::vector<prometheus::MetricFamily> families);
  // The families last stored for `domain` (empty when none).
  std::vector<prometheus::MetricFamily> get(const std::string& domain) const;
  // Drops every domain not in `domains`.
  void retain_only(const std::set<std::string>& domains);
  std::vector<prometheus::MetricFamily> Collect() const override;

 private:
  mutable std::mutex mu_;
  std::map<std::string, std::vector<prometheus::MetricFamily>> by_domain_;
};

}  // namespace mailtls::exporter
