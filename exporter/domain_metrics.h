#pragma once
// Turns one DomainReport into the metric families of DESIGN.md §5. Certificate, TLS and TLSA
// metrics appear whenever a handshake produced a chain, also when validation or matching fails.

#include <prometheus/metric_family.h>

#include <vector>

#include "probes/domain/domain_report.h"

namespace mailtls::exporter {

std::vector<prometheus::MetricFamily> domain_metrics(const domain::DomainReport& report);

}  // namespace mailtls::exporter
