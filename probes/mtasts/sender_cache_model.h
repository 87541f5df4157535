#pragma once
// What MTA-STS senders may still hold in their caches (docs/verdicts.md P7, B16; RFC 8461 §3.3,
// §5.1, §8.3, §10.2). A sender that fetched a policy keeps it until fetch time + max_age and
// applies it when no newer one can be had. The model remembers every policy the domain served
// (by body), with the last time it was served; a sender may hold each until last served +
// max_age. When the served policy changes or disappears, the previous one counts as served until
// the probe that saw the change (it may have been fetched just before).
//
// Pure: inputs are this probe's observation, the history and now; outputs are a typed status,
// the times, and the history to keep.
//
// Status, first rule that applies:
//  - withdrawn_without_none: the TXT record is gone (or invalid) or the policy cannot be fetched,
//    while an enforce policy is still cacheable and no `mode: none` policy was served after it
//    (RFC 8461 §8.3): senders keep enforcing the old policy, and cannot learn of a new one,
//    until it expires.
//  - mx_not_covered: a current MX host is not matched by the `mx:` patterns of a still-cacheable
//    enforce policy other than the one served now: senders holding it refuse that host until it
//    expires.
//  - downgraded: the policy served now is not `enforce` while an earlier enforce policy is still
//    cacheable: senders holding it still enforce until it expires.
//  - enforce_cached: an enforce policy is cacheable, and none of the above.
//  - unknown: nothing was known before this probe (first run, state lost) and no enforce policy
//    is served now: what senders fetched earlier cannot be known.
//  - no_enforce_cached: no enforce policy is cacheable.
// A TXT lookup that failed (SERVFAIL, bogus) says nothing about what senders hold: the history is
// kept as it was, and the status computed from it.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "probes/base/clock.h"
#include "probes/mtasts/sts_policy.h"

namespace mailtls::mtasts {

enum class SenderCacheStatus {
  kUnknown,
  kNoEnforceCached,
  kEnforceCached,
  kMxNotCovered,
  kWithdrawnWithoutNone,
  kDowngraded,
};
std::string_view to_string(SenderCacheStatus s);  // "unknown", "no_enforce_cached", ...
const std::vector<std::string>& sender_cache_status_names();  // in enum order

struct ServedPolicy {
  std::string body_sha256;
  StsMode mode = StsMode::kNone;
  std::int64_t max_age = 0;
  std::vector<std::string> mx_patterns;
  SystemTime first_served{};
  SystemTime last_served{};
  bool operator==(const ServedPolicy&) const = default;
  SystemTime cacheable_until() const { return last_served + std::chrono::seconds(max_age); }
};

struct SenderCacheHistory {
  SystemTime tracking_since{};
  std::vector<ServedPolicy> served;  // still cacheable, most recently served last
  std::string served_now;           // body served at the last probe; empty: none
  bool operator==(const SenderCacheHistory&) const = default;
};

enum class PolicyAvailability {
  kServed,       // a valid TXT record and a valid policy
  kTxtAbsent,    // no valid v=STSv1 record (NXDOMAIN, NODATA, invalid): senders look no further
  kUnreachable,  // a valid TXT record, the policy cannot be fetched or is invalid
  kLookupFailed, // the TXT lookup failed: nothing learned
};

struct SenderCacheObservation {
  PolicyAvailability availability = PolicyAvailability::kLookupFailed;
  ServedPolicy policy;  // when kServed: body, mode, max_age, patterns (the times are ignored)
  std::vector<std::string> mx_hosts;  // the current MX hosts
};

struct CachedMxCoverage {
  std::string mx_host;
  bool covered = true;  // every still-cacheable earlier enforce policy matches it
  std::optional<SystemTime> refused_until;  // when the last one that does not match expires
};

struct SenderCacheAssessment {
  SenderCacheStatus status = SenderCacheStatus::kUnknown;
  // When the last enforce copy a sender may hold expires; empty when none is cacheable.
  std::optional<SystemTime> enforce_expiry;
  // Per current MX host, only when a still-cacheable enforce policy other than the one served
  // now exists.
  std::vector<CachedMxCoverage> mx_coverage;
  std::string reason;  // one line for `check` and the log
  SenderCacheHistory history;
};

// At most this many served policies are remembered per domain (the most recently served).
inline constexpr std::size_t kMaxRememberedPolicies = 16;

SenderCacheAssessment model_sender_cache(const std::optional<SenderCacheHistory>& previous,
                                         const SenderCacheObservation& observed, SystemTime now);

}  // namespace mailtls::mtasts
