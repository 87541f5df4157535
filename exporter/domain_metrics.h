#pragma once
// Turns one DomainReport into the metric families of DESIGN.md §5. Certificate, TLS and TLSA
// metrics appear whenever a handshake produced a chain, also when validation or matching fails.

#include <prometheus/metric_family.h>

#include <vector>

#include "probes/domain/domain_report.h"

namespace mailtls::exporter {

std::vector<prometheus::MetricFamily> domain_metrics(const domain::DomainReport& report);

// A probe that ran out of time found only part of the truth: publishing its verdicts would turn
// a slow MX into "DANE broken". So it yields only the probe envelope (probe_success 0, its
// duration and time); the caller keeps the other families of the last complete probe, if any
// (ProbeResultsCollector::update).
std::vector<prometheus::MetricFamily> incomplete_probe_metrics(const domain::DomainReport& report);

}  // namespace mailtls::exporter
