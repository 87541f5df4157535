#pragma once
// The DANE verdict of a domain, from probes/dane (dane_assessment.h documents the rules),
// written into a DomainReport whose MX hosts and addresses are already probed: the TLSA record
// table with per-address matches, dane_match per address, rollover readiness per MX, and
// dane_status (bogus before not_deployed; then valid / degraded / broken over every address of
// every MX host with a secure TLSA RRset). dane_partial: some MX hosts without DANE (M4).
// Every key type (T14): per address, the match of each key type's chain.

#include <optional>
#include <utility>
#include <vector>

#include "probes/dns/mx_resolution.h"
#include "probes/dns/tlsa_base_domain.h"
#include "probes/domain/domain_report.h"
#include "probes/smtp/starttls_probe.h"

namespace mailtls::domain {

// `hosts[i]` is the lookup of r.mx[i]; `results[t]` the STARTTLS probe of target t, which
// belongs to r.mx[owner[t].first]; `other_key_types[t]`, when present, the handshake of the same
// target limited to the key type results[t] did not present (T14).
void assess_dane(DomainReport& r, const std::vector<dns::TlsaBaseDomainResult>& hosts,
                 const std::vector<smtp::StarttlsResult>& results,
                 const std::vector<std::pair<size_t, std::string>>& owner,
                 const dns::MxResolution& mx, SystemTime now,
                 const std::vector<std::optional<smtp::StarttlsResult>>& other_key_types = {});

}  // namespace mailtls::domain
