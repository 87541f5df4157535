#include "probes/domain/domain_observation.h"

namespace mailtls::domain {
namespace {

void add(std::vector<RrsetStatus>& out, const dns::Answer& a) {
  if (a.qname.empty()) return;
  for (const auto& existing : out) {
    if (existing.name == a.qname && existing.type == dns::to_string(a.type)) return;
  }
  out.push_back(RrsetStatus{a.qname, std::string(dns::to_string(a.type)), a.security, a.outcome,
                            a.earliest_rrsig_expiry, a.reason});
}

}  // namespace

std::vector<RrsetStatus> observed_rrsets(const DomainObservation& o) {
  std::vector<RrsetStatus> out;
  add(out, o.mx.mx_answer);
  for (const auto& h : o.hosts) {
    for (const auto& a : h.lookup.answers) add(out, a);
  }
  const auto& p = o.policies;
  if (o.check_mtasts && p.mtasts && p.mtasts_in_time && !p.mtasts->txt.qname.empty()) {
    const auto& txt = p.mtasts->txt;
    out.push_back(RrsetStatus{txt.qname, "TXT", txt.security, txt.outcome, std::nullopt, txt.lookup_error});
  }
  if (o.check_tlsrpt && p.tlsrpt_txt && p.tlsrpt_in_time) add(out, *p.tlsrpt_txt);
  return out;
}

}  // namespace mailtls::domain
