#pragma once
// The DANE verdict of a domain, from probes/dane (dane_assessment.h documents the rules),
// written into a DomainReport whose MX hosts and addresses are filled from the same observation
// (r.mx[i] is o.hosts[i]): the TLSA record table with per-address matches and staleness,
// dane_match per address, rollover readiness and stale record groups per MX, and dane_status
// (bogus before not_deployed; then valid / degraded / broken over every address of every MX
// host with a secure TLSA RRset). dane_partial: some MX hosts without DANE (M4). Every key type
// (T14): per address, the match of each key type's chain.

#include <string>
#include <vector>

#include "probes/dane/dane_assessment.h"
#include "probes/domain/domain_observation.h"
#include "probes/domain/domain_report.h"

namespace mailtls::domain {

void assess_dane(DomainReport& r, const DomainObservation& o, SystemTime now);

// What a DANE-TA(2) certificate may be named for, besides the TLSA base domain and the MX host
// name (RFC 7672 §3.2.2): with a secure MX RRset, the next-hop domain and, when the MX lookup
// went through a CNAME, the expanded next-hop domain. This returns that expanded name when there
// is one (the next-hop domain itself is added by dane::assess_domain_dane).
std::vector<std::string> extra_next_hop_names(const dns::MxResolution& mx);

}  // namespace mailtls::domain
