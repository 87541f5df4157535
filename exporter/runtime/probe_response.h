#pragma once
// What /probe answers for one finished probe of one domain: the metrics /metrics would show
// for it (exposition text), or with debug=true the probe's log followed by those metrics.

#include <string>

#include "exporter/exposition/metrics_profile.h"
#include "exporter/http/web_server.h"
#include "probes/domain/domain_report.h"

namespace mailtls::exporter {

// `report` is judged already (history applied) and printable (make_printable). The metrics are
// those of the configured profile.
HttpResponse probe_response(const domain::DomainReport& report, bool debug,
                            MetricsProfile profile = MetricsProfile::kFull);

}  // namespace mailtls::exporter
