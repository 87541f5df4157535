#pragma once
// Turns one DomainReport into the metric families of DESIGN.md §5. Certificate, TLS and TLSA
// metrics appear whenever a handshake produced a chain, also when validation or matching fails.

#include <prometheus/metric_family.h>

#include <vector>

#include "probes/domain/domain_report.h"

namespace mailtls::exporter {

std::vector<prometheus::MetricFamily> domain_metrics(const domain::DomainReport& report);

// A probe that ran out of time found only part of the truth: publishing its verdicts would turn
// a slow MX into "DANE broken". So it updates only the probe envelope (probe_success 0, its
// duration and time) and keeps the families of the last complete probe, if any.
std::vector<prometheus::MetricFamily> metrics_after_incomplete_probe(
    const domain::DomainReport& report, const std::vector<prometheus::MetricFamily>& previous);

}  // namespace mailtls::exporter
