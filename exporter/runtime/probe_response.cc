#include "exporter/runtime/probe_response.h"

#include "exporter/exposition/domain_metrics.h"
#include "exporter/exposition/metrics_text.h"

namespace mailtls::exporter {

HttpResponse probe_response(const domain::DomainReport& report, bool debug, MetricsProfile profile) {
  std::string metrics = render_metrics_families(domain_metrics(report, profile));
  if (debug) {
    std::string out = "Logs for the probe:\n";
    for (const auto& line : report.log) out += line + "\n";
    out += "\n\n\nMetrics that would have been returned:\n" + metrics;
    return {200, "text/plain; charset=utf-8", out, {}};
  }
  return {200, kMetricsContentType, metrics, {}};
}

}  // namespace mailtls::exporter
