#pragma once
// `mailtls_exporter check <domain>...`: a readable report of one probe per domain, for people
// (colour on a terminal) and pipelines (--output json), with an exit code:
// 0 every verdict good, 1 a verdict is broken or degraded, 2 a domain could not be probed or
// has no verdict (timeout, the exporter's resolver unreachable or not validating DNSSEC).
// The JSON is {"resolver": {"validating": true|false|null, "reason": "..."}, "domains": [...]}.

#include <string>
#include <vector>

#include "probes/domain/domain_report.h"
#include "probes/domain/no_verdict.h"

namespace mailtls::exporter {

// One domain; `now` is what "expires in N days" counts from.
std::string format_check_text(const domain::DomainReport& report, bool color, SystemTime now);
// Every domain in turn, then a line saying so when the resolver does not validate DNSSEC.
std::string format_check_texts(const std::vector<domain::DomainReport>& reports,
                               const domain::ResolverSelfTestState& resolver, bool color,
                               SystemTime now);
std::string format_check_json(const std::vector<domain::DomainReport>& reports,
                              const domain::ResolverSelfTestState& resolver);
int check_exit_code(const std::vector<domain::DomainReport>& reports);

}  // namespace mailtls::exporter
