#pragma once
// Turns one DomainReport into the metric families of docs/metrics.md. Certificate, TLS and TLSA
// metrics appear whenever a handshake produced a chain, also when validation or matching fails.

#include <prometheus/metric_family.h>

#include <vector>

#include "exporter/exposition/metrics_profile.h"
#include "probes/domain/domain_report.h"

namespace mailtls::exporter {

// In the lean profile, cut as lean_profile.h says.
std::vector<prometheus::MetricFamily> domain_metrics(const domain::DomainReport& report,
                                                     MetricsProfile profile = MetricsProfile::kFull);

// A probe without a verdict (report.no_verdict: it ran out of time, or the exporter's own
// resolver is unreachable or does not validate DNSSEC) found only part of the truth, or none
// the domain can be blamed for: publishing its verdicts would turn a slow MX into "DANE
// broken" and a wrong trust anchor into "bogus" for every domain, and paging. So it yields
// only the probe envelope (probe_success 0, mailtls_probe_no_verdict{reason}, its duration
// and time); the caller keeps the other families of the last complete probe, if any
// (ProbeResultsCollector::update). Keeping them rather than marking them unknown means a
// domain that was broken stays broken (its page does not "resolve" because the monitor went
// blind) and a healthy one does not flap; the reason says the values are not fresh, and
// MailTLSResolverNotValidating is the one page.
std::vector<prometheus::MetricFamily> incomplete_probe_metrics(const domain::DomainReport& report);

}  // namespace mailtls::exporter
