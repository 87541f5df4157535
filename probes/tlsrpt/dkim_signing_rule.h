#pragma once
// The DKIM rule for mailed TLS-RPT reports (RFC 8460 §5.3), made in one place: which of a
// message's signatures counts, and the one result a report gets. docs/verdicts.md R11 says
// the same in words.
//
//   * The signing domain (d=) must be the reporting domain or a parent of it. The reporting
//     domain is named twice and both must be covered: the TLS-Report-Submitter header and the
//     domain of the report's contact-info (§5.3: they MUST match; a parent domain controls
//     the names below it, so its signature vouches for them).
//   * A signature with l= (a signed body prefix) does not count (§5.3: MUST NOT use l=).
//   * pass: a valid signature by such a domain without l=.
//   * temporary: none passes, and the key of such a signature could not be had (not found,
//     DNS failure): the mail is kept and tried again, as a key may be published late or the
//     DNS may be down for a while.
//   * fail: a signature by such a domain exists and does not verify (bad signature or body
//     hash, revoked key).
//   * policy: signatures exist, but none by the reporting domain, or only with l= or with a
//     key not meant for TLS-RPT (s=).
//   * no_signature: no DKIM-Signature at all.

#include <string>
#include <string_view>
#include <vector>

#include "probes/dns/resolver.h"
#include "probes/tlsrpt/dkim_verification.h"

namespace mailtls::tlsrpt {

enum class DkimResult { kPass, kFail, kNoSignature, kTemporary, kPolicy };
std::string_view to_string(DkimResult r);  // "pass", "fail", "no_signature", "temporary", "policy"

struct DkimVerdict {
  DkimResult result = DkimResult::kNoSignature;
  std::string signing_domain;  // d= of the signature that decided ("" for no_signature)
  dns::Security key_security = dns::Security::kIndeterminate;  // of that signature's key answer
  std::string reason;          // for the log
};

// True when a signature by `signing_domain` speaks for `reporting_domain`: the same name or a
// parent of it, compared label by label, case-insensitively, trailing dots ignored.
bool signing_domain_covers(std::string_view signing_domain, std::string_view reporting_domain);

// `reporting_domains`: the names the signature must cover (empty strings are ignored; if none
// is left, no signature can count).
DkimVerdict judge_dkim(const DkimChecks& checks, const std::vector<std::string>& reporting_domains);

}  // namespace mailtls::tlsrpt
