#include "exporter/metrics_text.h"

#include <prometheus/text_serializer.h>

namespace mailtls::exporter {

std::string render_metrics(const std::vector<std::shared_ptr<prometheus::Collectable>>& sources) {
  std::vector<prometheus::MetricFamily> families;
  for (const auto& s : sources) {
    auto f = s->Collect();
    families.insert(families.end(), std::make_move_iterator(f.begin()),
                    std::make_move_iterator(f.end()));
  }
  return prometheus::TextSerializer().Serialize(families);
}

}  // namespace mailtls::exporter

namespace mailtls::exporter {

std::string render_metrics_families(const std::vector<prometheus::MetricFamily>& families) {
  return prometheus::TextSerializer().Serialize(families);
}

}  // namespace mailtls::exporter
