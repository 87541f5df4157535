#pragma once
// What /probe answers for one finished probe of one domain: the metrics /metrics would show
// for it (exposition text), or with debug=true the probe's log followed by those metrics.

#include <string>

#include "exporter/http/web_server.h"
#include "probes/domain/domain_report.h"

namespace mailtls::exporter {

// `report` is judged already (history applied) and printable (make_printable).
HttpResponse probe_response(const domain::DomainReport& report, bool debug);

}  // namespace mailtls::exporter
