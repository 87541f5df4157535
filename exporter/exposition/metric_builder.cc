#include "exporter/exposition/metric_builder.h"

namespace mailtls::exporter {
namespace {

prometheus::ClientMetric make_metric(const Labels& labels) {
  prometheus::ClientMetric m;
  for (const auto& [k, v] : labels) m.label.push_back({k, v});
  return m;
}

}  // namespace

prometheus::MetricFamily& MetricBuilder::family(std::string_view name, std::string_view help,
                                                prometheus::MetricType type) {
  auto it = index_.find(name);
  if (it != index_.end()) return families_[it->second];
  index_.emplace(std::string(name), families_.size());
  families_.push_back(prometheus::MetricFamily{std::string(name), std::string(help), type, {}});
  return families_.back();
}

void MetricBuilder::gauge(std::string_view name, std::string_view help, const Labels& labels,
                          double value) {
  if (!kept(name)) return;
  auto m = make_metric(labels);
  m.gauge.value = value;
  family(name, help, prometheus::MetricType::Gauge).metric.push_back(std::move(m));
}

void MetricBuilder::counter(std::string_view name, std::string_view help,
                            const Labels& labels, double value) {
  if (!kept(name)) return;
  auto m = make_metric(labels);
  m.counter.value = value;
  family(name, help, prometheus::MetricType::Counter).metric.push_back(std::move(m));
}

void MetricBuilder::state_set(std::string_view name, std::string_view help,
                              const Labels& labels, const std::string& label_name,
                              const std::vector<std::string>& states, const std::string& current) {
  if (!kept(name)) return;
  for (const auto& s : states) {
    Labels l = labels;
    l.emplace_back(label_name, s);
    gauge(name, help, l, s == current ? 1 : 0);
  }
}

std::vector<prometheus::MetricFamily> MetricBuilder::take() {
  index_.clear();
  return std::exchange(families_, {});
}

}  // namespace mailtls::exporter
