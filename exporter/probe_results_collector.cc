#include "exporter/probe_results_collector.h"

#include "exporter/metric_builder.h"

namespace mailtls::exporter {

void ProbeResultsCollector::set(const std::string& domain,
                                std::vector<prometheus::MetricFamily> families) {
  std::lock_guard lock(mu_);
  by_domain_[domain] = std::move(families);
}

std::vector<prometheus::MetricFamily> ProbeResultsCollector::get(const std::string& domain) const {
  std::lock_guard lock(mu_);
  auto it = by_domain_.find(domain);
  return it == by_domain_.end() ? std::vector<prometheus::MetricFamily>{} : it->second;
}

void ProbeResultsCollector::retain_only(const std::set<std::string>& domains) {
  std::lock_guard lock(mu_);
  for (auto it = by_domain_.begin(); it != by_domain_.end();) {
    it = domains.count(it->first) ? std::next(it) : by_domain_.erase(it);
  }
}

std::vector<prometheus::MetricFamily> ProbeResultsCollector::Collect() const {
  std::vector<prometheus::MetricFamily> out;
  std::lock_guard lock(mu_);
  for (const auto& [domain, families] : by_domain_) merge_families(out, families);
  return out;
}

}  // namespace mailtls::exporter
