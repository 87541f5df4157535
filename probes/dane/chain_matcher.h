#pragma once
// Matching one presented certificate chain against a TLSA RRset, as an RFC 7672 sender does
// (docs/verdicts.md T7-T10, W4):
//   - DANE-EE(3) records are compared with the leaf only; no name check and no expiry check
//     (RFC 7672 §3.1.1, §3.2.1: the binding lives as long as the TLSA RRSIG).
//   - DANE-TA(2) records are compared with the certificates above the leaf (depth >= 1, as
//     OpenSSL does: a TA record never matches the leaf itself). The trust anchor must be in the
//     presented chain (RFC 7672 §3.1.2), except for a "2 0 0" / "2 1 0" record, which carries
//     the whole anchor certificate or key: then the server may omit the anchor, and the record
//     matches the first presented certificate that anchor signed (RFC 7671 §5.2.2, as OpenSSL).
//     Then the path from the leaf to that anchor is validated with the anchor as the only trust
//     anchor (X509_V_FLAG_PARTIAL_CHAIN), the server purpose, expiry at `now`, and the name
//     check against the reference identifiers (RFC 7672 §3.2.2, §3.2.3: DNS-IDs, CN only
//     without DNS-IDs, wildcards only as the whole left-most label).
//   - Digest agility (T10) decides which records count (tlsa_usability.h).
// Pure and offline: a parsed chain (or DER) in, plain data out.

#include <optional>
#include <string>
#include <vector>

#include "probes/base/clock.h"
#include "probes/dane/dane_result_type.h"
#include "probes/dane/tlsa_usability.h"
#include "probes/dns/records.h"
#include "probes/tls/der_chain.h"
#include "probes/tls/x509_chain.h"

namespace mailtls::dane {

struct TlsaRecordMatch {
  TlsaUsability usability;
  // The record's data equals the selected content of the leaf (usage 3) or of a certificate
  // above it (usage 2). Computed for every usable record, counted or not: this is the
  // per-record match (`dane_tlsa_record_match`) and the basis of staleness (T11).
  bool data_matches = false;
  // Chain index that matched, -1 when none. For an anchor from DNS: the depth the anchor
  // takes above the certificate it signed ("2 0 0"), or that certificate's own ("2 1 0"),
  // which is how OpenSSL counts (SSL_get0_dane_authority).
  int matched_depth = -1;
  // Usage 2 only, when data matched: the path to the anchor, expiry and name check passed.
  // Always true for a matching usage 3 record.
  bool path_ok = false;
  // Counted by agility, data matches and path ok: this record alone authenticates the chain.
  bool authenticates = false;
  // Usage 2 whose data matched but whose path failed: certificate-host-mismatch,
  // certificate-expired or validation-failure; kOk otherwise.
  DaneResultType failure = DaneResultType::kOk;
  std::string message;  // OpenSSL's verify error text for `failure`
};

struct ChainMatch {
  std::vector<TlsaRecordMatch> records;  // one per input record, same order
  bool authenticated = false;            // some counted record authenticates the chain
  std::optional<size_t> matched_record;  // the first record that authenticates
  // kOk when authenticated; otherwise tlsa-invalid (no counted record matches),
  // certificate-host-mismatch / certificate-expired / validation-failure (a counted DANE-TA
  // record matched but its path failed), or validation-failure (no parseable leaf).
  DaneResultType result_type = DaneResultType::kTlsaInvalid;
  std::string message;
  // A usable record matched but was disregarded by digest agility (e.g. a good "3 1 1" beside
  // a wrong "3 1 2"): worth a warning of its own (T10).
  bool agility_shadowed_match = false;
  int parsed_certificates = 0;  // chain elements parsed; parsing stops at the first bad one
};

// `reference_names`: the TLSA base domain first, then (only when the MX RRset is secure) the
// next-hop domain and its CNAME expansion. Used only for DANE-TA name checks; an empty list
// means no name check (for tests of the path logic alone).
ChainMatch match_chain(const tls::X509Chain& chain, const std::vector<dns::TlsaRecord>& records,
                       const std::vector<std::string>& reference_names, SystemTime now);
// The same from DER, parsed up to the first certificate that does not parse.
ChainMatch match_chain(const tls::DerChain& chain, const std::vector<dns::TlsaRecord>& records,
                       const std::vector<std::string>& reference_names, SystemTime now);

}  // namespace mailtls::dane
