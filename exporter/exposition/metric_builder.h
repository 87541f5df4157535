#pragma once
// Builds metric families from probe results: samples with labels, grouped by family name in
// the order first added. The exporter turns one domain's result into one MetricBuilder's
// families and hands them to the ProbeResultsCollector, which renders them to text.
// A builder made with a family filter drops the samples of the families it does not keep
// before building them (the lean profile of a domain without anything wrong keeps few).

#include <prometheus/metric_family.h>

#include <functional>
#include <map>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace mailtls::exporter {

using Labels = std::vector<std::pair<std::string, std::string>>;

// Whether a family (by name) is kept.
using FamilyFilter = bool (*)(std::string_view name);

class MetricBuilder {
 public:
  // `keep` null: every family is kept.
  explicit MetricBuilder(FamilyFilter keep = nullptr) : keep_(keep) {}

  void gauge(std::string_view name, std::string_view help, const Labels& labels, double value);
  void counter(std::string_view name, std::string_view help, const Labels& labels, double value);
  // A state set: one series per state, 1 for `current`, 0 for the others.
  void state_set(std::string_view name, std::string_view help, const Labels& labels,
                 const std::string& label_name, const std::vector<std::string>& states,
                 const std::string& current);
  std::vector<prometheus::MetricFamily> take();

 private:
  bool kept(std::string_view name) const { return keep_ == nullptr || keep_(name); }
  prometheus::MetricFamily& family(std::string_view name, std::string_view help,
                                   prometheus::MetricType type);
  FamilyFilter keep_;
  std::vector<prometheus::MetricFamily> families_;
  std::map<std::string, size_t, std::less<>> index_;
};

}  // namespace mailtls::exporter
