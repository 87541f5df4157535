#include "exporter/runtime/judged_probe.h"

#include "exporter/runtime/domain_history.h"

namespace mailtls::exporter {

domain::DomainReport probe_and_judge(DomainProber& prober, const DomainConfig& domain,
                                     StateStore* state, HistoryUse use) {
  const domain::DomainHistory history =
      state ? load_domain_history(*state, domain.name, std::chrono::system_clock::now())
            : domain::DomainHistory{};
  auto judged = prober.probe(domain, history);
  // History only from complete probes; a probe without a verdict says nothing about it.
  if (state && use == HistoryUse::kCommit && judged.verdict.probe_success) {
    store_domain_history(*state, domain.name, judged.remember);
  }
  return std::move(judged.verdict);
}

}  // namespace mailtls::exporter
