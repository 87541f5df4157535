#pragma once
// The DANE verdict of a domain: would a DANE-enforcing sender (Postfix with
// smtp_tls_security_level = dane) deliver? Fills, in a DomainReport whose MX hosts and
// addresses are already probed: the TLSA record table with per-address matches, dane_match per
// address, rollover readiness per MX, and dane_status.
//
// dane_status, first match wins (STANDARDS.md §10):
//   bogus         the MX lookup, or any MX host's address/TLSA lookup, was bogus or failed:
//                 validating senders defer (RFC 7672 §2.1.2) — never reported as not_deployed
//   not_deployed  no MX host has a secure TLSA RRset
//   valid         every address of every MX host with a secure TLSA RRset passes
//   broken        none of them passes
//   degraded      some pass, some fail
// An address passes when STARTTLS completed and, with usable records, the chain authenticates
// (with only unusable records, unauthenticated TLS is enough: RFC 7672 §2.2.3, RFC 7671 §10.3).
// dane_partial is set when some MX hosts have DANE and others do not (STANDARDS M4).

#include <utility>
#include <vector>

#include "probes/dns/mx_resolution.h"
#include "probes/dns/tlsa_base_domain.h"
#include "probes/domain/domain_report.h"
#include "probes/smtp/starttls_probe.h"

namespace mailtls::domain {

// `hosts[i]` is the lookup of r.mx[i]; `results[t]` the STARTTLS probe of target t, which
// belongs to r.mx[owner[t].first].
void assess_dane(DomainReport& r, const std::vector<dns::TlsaBaseDomainResult>& hosts,
                 const std::vector<smtp::StarttlsResult>& results,
                 const std::vector<std::pair<size_t, std::string>>& owner,
                 const dns::MxResolution& mx, SystemTime now);

// Why a TLSA record is unusable for SMTP ("" when usable), STANDARDS T5.
std::string tlsa_unusable_reason(const dns::TlsaRecord& r);

}  // namespace mailtls::domain
