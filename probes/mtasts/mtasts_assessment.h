#pragma once
// The MTA-STS verdict of a domain (`mtasts_status`, docs/verdicts.md P1-P9, P13): would an
// MTA-STS-enforcing sender deliver, and is the deployment healthy?
//
// Rules, first match wins:
//  1. The `_mta-sts` TXT lookup failed (SERVFAIL, timeout, bogus)  -> broken: new senders cannot
//     discover the policy (those with a cached policy keep using it).
//  2. No STS TXT record (NXDOMAIN, NODATA, no record beginning v=STS) -> not_deployed.
//  3. The TXT record is invalid, or several STS records exist         -> invalid (senders ignore
//     MTA-STS: a silent downgrade, B14).
//  4. The policy fetch failed (DNS, connect, TLS/WebPKI, non-200, redirect, content type, size,
//     timeout)                                                        -> broken (F7, B13).
//  5. The fetched policy does not parse                               -> invalid.
//  6. mode none                                                       -> not_deployed: senders
//     treat it as no active policy (RFC 8461 §5); the state set has no separate value for it.
//  7. mode testing                                                    -> testing, whatever the MX
//     checks say; per-MX problems are reported in `mx` (WARN level, P8/P9).
//  8. mode enforce: an MX passes when it matches an mx pattern, STARTTLS worked and its
//     certificate is WebPKI-valid for the MX name. All pass -> enforced; some -> degraded; none
//     -> broken (no compliant sender can deliver). No MX hosts to check -> enforced.
// MTA-STS never overrides a DANE verdict (P10); combining the two is the caller's business.

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "probes/mtasts/mtasts_probe.h"
#include "probes/mtasts/sts_policy.h"

namespace mailtls::mtasts {

enum class MtaStsStatus { kEnforced, kTesting, kDegraded, kBroken, kNotDeployed, kInvalid };
// "enforced", "testing", "degraded", "broken", "not_deployed", "invalid" (docs/metrics.md).
std::string_view to_string(MtaStsStatus s);

// What the SMTP/TLS probes found at one MX host, as an MTA-STS sender would see it.
struct MxTransport {
  std::string name;           // the MX record's host name (not CNAME-expanded: RFC 8461 §4.1)
  bool starttls_ok = false;   // STARTTLS offered and the handshake completed
  bool webpki_valid = false;  // chain to a trusted root, not expired, SAN matches `name`
};

// Why an MX fails the policy; a closed set for labels.
enum class MxStsProblem { kNotCovered, kStarttlsFailed, kWebPkiInvalid };
std::string_view to_string(MxStsProblem p);  // "not_covered", "starttls_failed", "webpki_invalid"

struct MxStsAssessment {
  std::string name;
  bool covered = false;         // matches an mx pattern
  std::string matched_pattern;  // empty when not covered
  bool passes = false;          // covered, STARTTLS and WebPKI all good
  std::vector<MxStsProblem> problems;
};

struct MtaStsAssessment {
  MtaStsStatus status = MtaStsStatus::kNotDeployed;
  std::string reason;                 // one line: why this status
  std::optional<StsMode> mode;        // of a valid policy
  std::vector<MxStsAssessment> mx;    // one per MX host when a valid policy exists, else empty
  std::vector<std::string> warnings;  // from the TXT record, the fetch and the policy
};

MtaStsAssessment assess_mtasts(const MtaStsProbeResult& probe, const std::vector<MxTransport>& mx);

}  // namespace mailtls::mtasts
