#include "exporter/exposition/handshake_histograms.h"

namespace mailtls::exporter {

std::optional<prometheus::MetricFamily> HandshakeHistograms::observe(
    const domain::DomainReport& report) {
  std::lock_guard lock(mu_);
  auto it = by_domain_.find(report.domain);
  for (const auto& mx : report.mx) {
    for (const auto& a : mx.addresses) {
      auto phase = a.phase_seconds.find("tls_handshake");
      if (phase == a.phase_seconds.end() || !a.starttls_ok) continue;
      if (it == by_domain_.end()) {
        it = by_domain_
                 .emplace(report.domain,
                          std::make_unique<prometheus::Histogram>(prometheus::Histogram::BucketBoundaries{
                              0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10}))
                 .first;
      }
      it->second->Observe(phase->second);
    }
  }
  if (it == by_domain_.end()) return std::nullopt;
  auto metric = it->second->Collect();
  metric.label.push_back({"domain", report.domain});
  return prometheus::MetricFamily{"mailtls_starttls_handshake_seconds",
                                  "TLS handshake time after STARTTLS, over all probes.",
                                  prometheus::MetricType::Histogram,
                                  {std::move(metric)}};
}

void HandshakeHistograms::retain_only(const std::set<std::string>& domains) {
  std::lock_guard lock(mu_);
  for (auto it = by_domain_.begin(); it != by_domain_.end();) {
    it = domains.count(it->first) ? std::next(it) : by_domain_.erase(it);
  }
}

}  // namespace mailtls::exporter
