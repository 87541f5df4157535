#pragma once
// The standard process_* metrics (CPU, memory, file descriptors, start time) read from /proc,
// which prometheus-cpp does not provide.

#include <prometheus/collectable.h>
#include <prometheus/metric_family.h>

namespace mailtls::exporter {

class ProcessCollector final : public prometheus::Collectable {
 public:
  std::vector<prometheus::MetricFamily> Collect() const override;
};

}  // namespace mailtls::exporter
