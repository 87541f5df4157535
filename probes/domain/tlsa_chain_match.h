#pragma once
// Matching a presented certificate chain against TLSA records, as an RFC 7672 sender does:
// DANE-EE(3) against the leaf with no name and no expiry check (§3.1.1, §3.2.1); DANE-TA(2)
// against a certificate in the presented chain, then path validation from the leaf to that
// trust anchor with expiry and the name check (§3.1.2, §3.2.2, §3.2.3); digest agility per
// (usage, selector) as RFC 7671 §9 and OpenSSL do: only Full(0) records and those of the
// strongest digest present count for authentication.

#include <string>
#include <vector>

#include "probes/base/clock.h"
#include "probes/dns/records.h"
#include "probes/tls/der_chain.h"

namespace mailtls::domain {

struct TlsaRecordMatch {
  bool usable = false;        // usage 2/3, selector 0/1, matching 0/1/2 of the right length
  bool counts = false;        // usable and kept by digest agility
  bool data_matches = false;  // the digest matches the leaf (3) or a chain certificate (2)
  bool authenticates = false; // data matches and, for usage 2, the path and name check pass
  std::string failure;        // RFC 8460 result type when data matched but authentication failed
};

struct ChainMatch {
  std::vector<TlsaRecordMatch> records;  // one per input record, same order
  bool authenticated = false;            // some counted record authenticates the chain
  // RFC 8460 result type when not authenticated: tlsa-invalid, certificate-host-mismatch,
  // certificate-expired, validation-failure.
  std::string result_type;
};

// `reference_names`: the TLSA base domain first, then (secure MX RRset) the next-hop domain;
// used only for DANE-TA name checks.
ChainMatch match_chain(const tls::DerChain& chain, const std::vector<dns::TlsaRecord>& records,
                       const std::vector<std::string>& reference_names, SystemTime now);

}  // namespace mailtls::domain
