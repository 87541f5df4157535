#include "probes/domain/domain_report.h"

namespace mailtls::domain {

void add_rrset(DomainReport& r, const dns::Answer& a) {
  if (a.qname.empty()) return;
  for (const auto& existing : r.rrsets) {
    if (existing.name == a.qname && existing.type == dns::to_string(a.type)) return;
  }
  r.rrsets.push_back(RrsetStatus{a.qname, std::string(dns::to_string(a.type)), a.security,
                                 a.outcome, a.earliest_rrsig_expiry, a.reason});
}

}  // namespace mailtls::domain
