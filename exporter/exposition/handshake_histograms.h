#pragma once
// mailtls_starttls_handshake_seconds: per domain, the TLS handshake times after STARTTLS over
// all probes since start. Kept here, not in a prometheus::Registry, so that the histogram is
// rendered into the domain's text together with its other metrics when a probe finishes
// (ProbeResultsCollector) and a scrape does not collect and serialize one histogram per domain.
// Thread-safe.

#include <prometheus/histogram.h>
#include <prometheus/metric_family.h>

#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>

#include "probes/domain/domain_report.h"

namespace mailtls::exporter {

class HandshakeHistograms {
 public:
  // Observes every completed handshake of `report`; returns the domain's histogram family, or
  // nullopt while no probe of the domain has completed a handshake.
  std::optional<prometheus::MetricFamily> observe(const domain::DomainReport& report);
  // Forgets every domain not in `domains`.
  void retain_only(const std::set<std::string>& domains);

 private:
  std::mutex mu_;
  std::map<std::string, std::unique_ptr<prometheus::Histogram>> by_domain_;
};

}  // namespace mailtls::exporter
