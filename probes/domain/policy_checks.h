#pragma once
// The MTA-STS and TLS-RPT parts of a probe (docs/architecture.md, data path). Their lookups and
// the policy fetch need only the domain name, so observe_domain() runs them beside the MX, TLSA
// and SMTP steps: a stalling MX must not use up their time (robustness finding R2). The MTA-STS
// verdict is made afterwards, when the SMTP results of the MX hosts are known.
//
// A part that did not finish before the probe deadline is reported as "not checked: timeout"
// rather than with a verdict drawn from half an answer; so is an enforce-mode verdict when the
// SMTP probe of an MX host was cut off by the deadline (whether that MX passes is unknown).

#include <optional>
#include <string>
#include <vector>

#include "probes/base/deadline.h"
#include "probes/dns/resolver.h"
#include "probes/domain/domain_report.h"
#include "probes/mtasts/mtasts_probe.h"
#include "probes/mtasts/policy_fetcher.h"

namespace mailtls::domain {

// What `status` / `error` say when a part ran out of time.
inline constexpr const char* kNotCheckedTimeout = "not checked: timeout";

struct PolicyLookups {
  std::optional<mtasts::MtaStsProbeResult> mtasts;  // when asked for
  bool mtasts_in_time = false;  // finished before the deadline
  std::optional<dns::Answer> tlsrpt_txt;           // _smtp._tls.<domain> TXT, when asked for
  bool tlsrpt_in_time = false;
};

// The TLS-RPT TXT lookup first (one query), then the MTA-STS TXT lookup, fetch and parse.
// Thread-safe as far as `resolver` and `fetcher` are (both promise it).
PolicyLookups lookup_policies(const std::string& domain, bool check_mtasts, bool check_tlsrpt,
                              dns::Resolver& resolver, mtasts::PolicyFetcher& fetcher,
                              Deadline deadline);

// Fills r.mtasts (and the MX coverage, the log) from `lookups` and r.mx, whose addresses are
// probed (the TXT RRsets are observed_rrsets()'s). `unfinished_mx`: MX hosts whose SMTP probe the deadline cut off.
void report_mtasts(DomainReport& r, const PolicyLookups& lookups,
                   const std::vector<std::string>& unfinished_mx);

// Fills r.tlsrpt from `lookups`.
void report_tlsrpt(DomainReport& r, const PolicyLookups& lookups);

}  // namespace mailtls::domain
