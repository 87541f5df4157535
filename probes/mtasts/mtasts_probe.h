#pragma once
// One MTA-STS probe of a policy domain (docs/architecture.md): the `_mta-sts.<domain>` TXT lookup
// through our Resolver, the HTTPS policy fetch, and the policy parse. The verdict is
// mtasts_assessment.h; change tracking is policy_history.h.
//
// The policy is fetched whenever the TXT RRset holds an STS record, also an invalid or duplicated
// one (a sender would not fetch then, but the operator wants to know whether the policy host
// works); the status stays `invalid` in that case. Nothing is fetched when there is no STS record
// or the TXT lookup failed. We never walk up to a parent domain (RFC 8461 §3.4).

#include <optional>
#include <string>
#include <string_view>

#include "probes/base/deadline.h"
#include "probes/dns/resolver.h"
#include "probes/mtasts/policy_fetcher.h"
#include "probes/mtasts/sts_policy.h"
#include "probes/mtasts/sts_txt_record.h"

namespace mailtls::mtasts {

struct StsTxtLookup {
  std::string qname;  // _mta-sts.<domain>
  dns::Outcome outcome = dns::Outcome::kError;
  dns::Security security = dns::Security::kIndeterminate;
  bool lookup_failed = false;  // SERVFAIL, timeout, bogus: the probe cannot tell (ERROR)
  std::string lookup_error;    // why, when lookup_failed
  int malformed = 0;           // TXT RDATA that could not be decoded
  StsTxtResult txt;            // kNoRecord for NXDOMAIN/NODATA; meaningless when lookup_failed
};

StsTxtLookup lookup_sts_txt(dns::Resolver& resolver, std::string_view policy_domain,
                            Deadline deadline);

struct MtaStsProbeResult {
  std::string policy_domain;
  StsTxtLookup txt;
  std::optional<PolicyFetchResult> fetch;  // when an STS record was found
  std::optional<StsPolicyResult> policy;   // when the fetch succeeded
};

MtaStsProbeResult probe_mtasts(dns::Resolver& resolver, PolicyFetcher& fetcher,
                               std::string_view policy_domain, Deadline deadline);

}  // namespace mailtls::mtasts
