#pragma once
// Which TLSA records a DANE SMTP sender uses (docs/verdicts.md T5, T10, T17).
//
// A record is usable for SMTP when its usage is DANE-TA(2) or DANE-EE(3), its selector is
// Cert(0) or SPKI(1), its matching type is Full(0), SHA2-256(1) or SHA2-512(2), and its data
// fits: non-empty for Full(0), exactly 32 bytes for SHA2-256, 64 bytes for SHA2-512.
// PKIX-TA(0)/PKIX-EE(1) are undefined for SMTP (RFC 7672 §3.1.3) and treated as unusable, as
// are unknown parameters (RFC 6698 §4.1). Unusable records are discarded *before* digest
// agility (RFC 7671 §9).
//
// Digest agility (RFC 7671 §9, T10): per (usage, selector), only Full(0) records plus the
// records of the strongest digest present among the usable ones take part in authentication.
// OpenSSL does the same, so a good "3 1 1" beside a wrong "3 1 2" fails: a sender using
// OpenSSL (Postfix) would fail too.

#include <cstdint>
#include <string_view>
#include <vector>

#include "probes/dns/records.h"

namespace mailtls::dane {

enum class TlsaUnusableReason {
  kNone,                 // usable
  kPkixUsage,            // usage 0 or 1: undefined for SMTP
  kUnknownUsage,         // usage > 3
  kUnknownSelector,      // selector > 1
  kUnknownMatchingType,  // matching type > 2
  kEmpty,                // no association data
  kBadDigestLength,      // SHA2-256 data not 32 bytes, SHA2-512 data not 64 bytes
};
// "usable", "pkix_usage", "unknown_usage", "unknown_selector", "unknown_matching_type",
// "empty", "bad_digest_length": bounded, for labels.
std::string_view to_string(TlsaUnusableReason r);

// The first reason, in the order of the list above, that makes `r` unusable for SMTP.
TlsaUnusableReason tlsa_unusable_reason(const dns::TlsaRecord& r);
inline bool tlsa_usable_for_smtp(const dns::TlsaRecord& r) {
  return tlsa_unusable_reason(r) == TlsaUnusableReason::kNone;
}

struct TlsaUsability {
  TlsaUnusableReason unusable_reason = TlsaUnusableReason::kNone;
  bool usable = false;
  // Usable and kept by digest agility: the record takes part in authentication. A usable
  // record that does not count is shadowed by a stronger digest for its (usage, selector).
  bool counts = false;
};

// One entry per record, same order. Agility is applied over the whole RRset.
std::vector<TlsaUsability> classify_tlsa_records(const std::vector<dns::TlsaRecord>& records);

// The number of usable records (what `dane_tlsa_usable_records` reports).
int count_usable(const std::vector<TlsaUsability>& usability);

}  // namespace mailtls::dane
