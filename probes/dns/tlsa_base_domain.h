#pragma once
// For one MX host, what a DANE sender does before connecting (RFC 7672 §2.2.2, §2.2.3;
// docs/verdicts.md M7, D6, T2, T3, T4): addresses first, the CNAME status, the candidate TLSA base
// domains, and the TLSA RRset that decides whether DANE applies.

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "probes/base/deadline.h"
#include "probes/dns/records.h"
#include "probes/dns/resolver.h"

namespace mailtls::dns {

enum class DaneApplicability {
  kDaneAppliesUsable,      // secure TLSA RRset with >= 1 usable record: authenticated TLS
  kDaneAppliesNoneUsable,  // secure TLSA RRset, nothing usable: TLS still mandatory
  kNotApplicableInsecure,  // the addresses (or the TLSA RRset) are insecure: no DANE
  kNotApplicableNoTlsa,    // secure denial of TLSA at every candidate
  kLookupFailed,           // bogus / indeterminate / error on A, AAAA, CNAME or TLSA, or no
                           // addresses at all: DANE senders treat the MX as unreachable
};
// "dane-usable", "dane-none-usable", "na-insecure", "na-no-tlsa", "lookup-failed"
std::string_view to_string(DaneApplicability d);

struct HostAddress {
  std::string ip;  // "192.0.2.1", "2001:db8::1"
  int family = 4;  // 4 or 6
  bool operator==(const HostAddress&) const = default;
};

struct TlsaBaseDomainResult {
  std::string host;  // the MX host asked about, lower case
  DaneApplicability applicability = DaneApplicability::kLookupFailed;
  std::vector<HostAddress> addresses;  // A then AAAA
  bool addresses_secure = false;       // both address answers secure, whole chain included
  std::string canonical_name;          // after CNAME expansion; == host when not an alias
  bool initial_cname_secure = false;   // from the separate CNAME query (D6); false when no alias
  // Every answer involved, in the order asked: A, AAAA, [CNAME], each TLSA query.
  std::vector<Answer> answers;
  std::vector<std::string> candidates;  // TLSA base domains tried, in order (T2)
  std::string base_domain;              // the candidate with a secure TLSA RRset; "" otherwise
  Answer tlsa_answer;                   // for base_domain, else the last TLSA answer (if any)
  std::vector<TlsaRecord> tlsa_records; // decoded from tlsa_answer when it is secure data
  int tlsa_malformed = 0;
  std::string reason;                   // what failed or why DANE does not apply
};

// Looks up A and AAAA at `mx_host`, then TLSA at `_<port>._tcp.<candidate>` per T2.
TlsaBaseDomainResult find_tlsa_base_domain(Resolver& resolver, std::string_view mx_host,
                                           Deadline deadline, std::uint16_t port = 25);

// T5: DANE-TA(2)/DANE-EE(3), selector 0/1, matching 0/1/2 with the right digest length and
// non-empty data. PKIX usages 0/1 are unusable for SMTP (RFC 7672 §3.1.3).
bool tlsa_record_usable_for_smtp(const TlsaRecord& r);

}  // namespace mailtls::dns
