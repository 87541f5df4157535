#pragma once
// Builds metric families from probe results: samples with labels, grouped by family name in
// the order first added. The exporter turns one domain's result into one MetricBuilder's
// families and hands them to the ProbeResultsCollector, which renders them to text.

#include <prometheus/metric_family.h>

#include <map>
#include <string>
#include <utility>
#include <vector>

namespace mailtls::exporter {

using Labels = std::vector<std::pair<std::string, std::string>>;

class MetricBuilder {
 public:
  void gauge(const std::string& name, const std::string& help, const Labels& labels, double value);
  void counter(const std::string& name, const std::string& help, const Labels& labels, double value);
  // A state set: one series per state, 1 for `current`, 0 for the others.
  void state_set(const std::string& name, const std::string& help, const Labels& labels,
                 const std::string& label_name, const std::vector<std::string>& states,
                 const std::string& current);
  std::vector<prometheus::MetricFamily> take();

 private:
  prometheus::MetricFamily& family(const std::string& name, const std::string& help,
                                   prometheus::MetricType type);
  std::vector<prometheus::MetricFamily> families_;
  std::map<std::string, size_t> index_;
};

}  // namespace mailtls::exporter
