#pragma once
// The DANE verdicts of one mail domain from plain inputs: per MX host the TLSA lookup
// classification (probes/dns), the TLSA records and, per address, the STARTTLS outcome and the
// presented chain (probes/smtp). Pure and offline.
//
// Per address (only for MX hosts with a secure TLSA RRset; "na" otherwise):
//   - STARTTLS is mandatory once a secure TLSA RRset exists, usable or not (RFC 7672 §2.2.3,
//     T6): not offered -> starttls-not-supported; offered but the handshake failed ->
//     validation-failure; the address not reachable -> probe-error (counted as a failure: the
//     monitor cannot vouch for an address it could not reach).
//   - With usable records the chain must authenticate (chain_matcher.h): `authenticated`.
//   - With only unusable records, unauthenticated TLS is what a DANE sender accepts
//     (RFC 7671 §10.3, T4 row 2): the address passes with `authenticated` false.
//   - Every key type (T14): when the server also offered a certificate of the other key type
//     (a second handshake limited to ECDSA or RSA), that chain must authenticate too: a sender
//     may be offered either. The address delivers only when every offered key type does;
//     `key_types` says which one fails.
//   `delivers` = a DANE sender would deliver to this address, whichever key type it gets.
//
// Per MX host: the usable record count; per record `data_matches` per address (the
// `dane_tlsa_record_match` metric: is this record for the key being presented) and `stale` (a
// usable record matching no chain presented at any address, F2); stale (usage, selector,
// matching type) groups (T11: a combination none of whose records matches any presented
// chain, even if authentication passes); rollover readiness (Addendum, F3):
//   ready when a counted DANE-TA (2 x x) record authenticates at every address that presented a
//   chain (a leaf key change keeps matching), or when a counted DANE-EE (3 x x) record matches
//   the presented leaf at every such address and another counted, usable 3 x x record with
//   different data matches no presented leaf (a pre-published next key). A duplicate of the
//   current record or an unusable record is not a next key.
//
// dane_status of the domain, first rule that applies:
//   bogus         the MX lookup failed (bogus/indeterminate), or any MX host's address or TLSA
//                 lookup did (DaneApplicability::kLookupFailed): DANE senders defer
//                 (RFC 7672 §2.1.2). Never reported as not_deployed.
//   not_deployed  no MX host has a secure TLSA RRset
//   valid         every address of every MX host with a secure TLSA RRset delivers
//   broken        none of those addresses delivers for any key type (an MX with DANE but no
//                 probed address counts as one failing address)
//   degraded      some deliver, some do not, or an address delivers for one key type only
// partial_coverage: some MX hosts have a secure TLSA RRset and others do not (docs/verdicts.md M4);
// the status is computed from the DANE MX hosts only, and senders reaching the others get no
// DANE protection, so the flag is reported beside the status.

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "probes/base/clock.h"
#include "probes/dane/chain_matcher.h"
#include "probes/dane/dane_result_type.h"
#include "probes/dane/tlsa_usability.h"
#include "probes/dns/records.h"
#include "probes/dns/tlsa_base_domain.h"
#include "probes/tls/handshake_key_type.h"
#include "probes/tls/x509_chain.h"

namespace mailtls::dane {

// The chain a server presented to a handshake limited to one key type.
struct KeyTypeChain {
  tls::HandshakeKeyType key_type = tls::HandshakeKeyType::kRsa;
  tls::X509Chain chain;  // as presented, leaf first
};

// What the STARTTLS probe saw at one address.
struct AddressProbe {
  std::string address;           // IP literal
  bool reached = false;          // TCP connected and the SMTP dialogue got to EHLO
  bool starttls_offered = false;
  bool handshake_ok = false;     // the TLS handshake completed
  tls::X509Chain chain;          // as presented, leaf first
  std::optional<tls::HandshakeKeyType> key_type = std::nullopt;  // of `chain`'s leaf, when ECDSA or RSA
  // The server's certificates of the other key type, one per key type it offered beside
  // `chain` (none: not offered, or the probe could not tell).
  std::vector<KeyTypeChain> other_key_types = {};
};

// One key type at one address: does its chain authenticate.
struct KeyTypeDaneResult {
  tls::HandshakeKeyType key_type = tls::HandshakeKeyType::kRsa;
  bool authenticated = false;
  DaneResultType result_type = DaneResultType::kTlsaInvalid;  // kOk when authenticated
  std::string message;
  std::vector<bool> record_matches;  // per TLSA record: its data matches this chain
};

struct MxDaneInput {
  std::string host;
  dns::DaneApplicability applicability = dns::DaneApplicability::kLookupFailed;
  std::string base_domain;                // the TLSA base domain (T2); "" when none
  std::vector<dns::TlsaRecord> records;   // the secure TLSA RRset at the base domain
  std::vector<AddressProbe> addresses;
};

struct DomainDaneInput {
  std::string domain;         // the next-hop domain
  bool mx_lookup_failed = false;  // MX answer bogus, indeterminate or an error
  bool mx_secure = false;     // the MX RRset validated secure: the next-hop names are reference IDs
  // Extra reference identifiers when mx_secure, after `domain`: the CNAME-expanded next-hop
  // domain if different (RFC 7672 §3.2.2; set by domain::extra_next_hop_names()).
  std::vector<std::string> extra_next_hop_names;
  std::vector<MxDaneInput> mx;
};

struct AddressDaneResult {
  std::string address;
  bool dane_applies = false;   // the MX host has a secure TLSA RRset
  bool authenticated = false;  // a counted usable record authenticates the chain (dane_match)
  bool delivers = false;       // a DANE sender would deliver here
  DaneResultType result_type = DaneResultType::kNotApplicable;  // kOk when delivers
  std::string message;
  std::optional<ChainMatch> chain_match;  // when a chain was matched
  std::optional<size_t> matched_record;   // index into the MX host's records
  // Per key type, when usable records were matched against chains of known key type: the
  // unrestricted handshake's first, then the others offered.
  std::vector<KeyTypeDaneResult> key_types;
  // Some key type's chain authenticates: a sender offered it delivers (equals `delivers`
  // unless key types disagree).
  bool some_key_type_delivers = false;
};

struct TlsaGroup {
  std::uint8_t usage = 0;
  std::uint8_t selector = 0;
  std::uint8_t matching_type = 0;
  bool operator==(const TlsaGroup&) const = default;
  auto operator<=>(const TlsaGroup&) const = default;
};
// "3 1 1": usage, selector and matching type in decimal, as a TLSA record begins.
std::string to_string(const TlsaGroup& g);

enum class RolloverReadiness {
  kNotApplicable,        // no usable records, or no chain presented anywhere
  kTrustAnchorMatches,   // ready: a DANE-TA record authenticates every address
  kNextKeyPublished,     // ready: a distinct DANE-EE record for a key not yet in use
  kOnlyCurrentKey,       // not ready: only the key in use is published
  kNoCurrentMatch,       // not ready: no record matches what is presented now
};
// "na", "trust-anchor", "next-key-published", "only-current-key", "no-current-match"
std::string_view to_string(RolloverReadiness r);

struct MxDaneResult {
  std::string host;
  dns::DaneApplicability applicability = dns::DaneApplicability::kLookupFailed;
  // For DANE-TA name checks, in order: the TLSA base domain, the MX host name if different, and
  // with a secure MX RRset the next-hop domain and its CNAME expansion.
  std::vector<std::string> reference_names;
  std::vector<TlsaUsability> usability;      // per record
  int usable_records = 0;
  std::vector<AddressDaneResult> addresses;  // same order as the input
  // Per record: data_matches per address, in address order (false where no chain).
  std::vector<std::vector<bool>> record_matches;
  std::vector<bool> record_stale;  // per record: usable and matching no presented chain
  std::vector<TlsaGroup> stale_groups;
  bool any_chain = false;          // some address presented a chain
  bool rollover_ready = false;
  RolloverReadiness rollover = RolloverReadiness::kNotApplicable;
  bool all_deliver = false;        // dane applies and every address delivers
};

enum class DaneStatus { kValid, kDegraded, kBroken, kNotDeployed, kBogus };
// "valid", "degraded", "broken", "not_deployed", "bogus": the dane_status state set.
std::string_view to_string(DaneStatus s);

struct DomainDaneResult {
  std::vector<MxDaneResult> mx;  // same order as the input
  DaneStatus status = DaneStatus::kNotDeployed;
  bool partial_coverage = false;
  int mx_with_dane = 0;
  int mx_without_dane = 0;
  int addresses_delivering = 0;
  int addresses_failing = 0;  // including those that fail for one key type only
  int addresses_failing_one_key_type = 0;  // deliver for some key type, fail for another
};

// One MX host; `mx_secure` and the next-hop names give the reference identifiers.
MxDaneResult assess_mx_dane(const MxDaneInput& in, const std::vector<std::string>& next_hop_names,
                            SystemTime now);

DomainDaneResult assess_domain_dane(const DomainDaneInput& in, SystemTime now);

}  // namespace mailtls::dane
