#pragma once
// Robustness finding O1: with the exporter's own resolver unreachable every lookup fails, and
// the verdicts would blame the domain (DANE "bogus", MTA-STS "broken") for the monitor's fault,
// paging the domain's owner. When a probe's lookups got no answer at all, one more question
// that no cache can answer tells the two apart: if the resolver cannot answer that either, the
// probe did not finish and carries no verdict. The runtime asks it (network); the rule is
// judge_resolver_faults() (no_verdict.h), part of judge().

#include <string>
#include <string_view>
#include <vector>

#include "probes/base/deadline.h"
#include "probes/domain/domain_report.h"
#include "probes/domain/no_verdict.h"
#include "probes/dns/resolver.h"

namespace mailtls::domain {

// True when a probe depended on a lookup that got no answer (an error that is not bogus:
// SERVFAIL, timeout, network error); `rrsets` as observed_rrsets() gives them.
bool has_unanswered_lookup(const std::vector<RrsetStatus>& rrsets);

// Asks A for a random label under `zone` ("" or "." = the root). Any reply (data, NODATA,
// NXDOMAIN; secure, insecure or even bogus) means the resolver answers; an error without one
// (SERVFAIL, timeout) means it does not. A random label is never in the resolver's cache
// (though a resolver synthesizing NXDOMAIN from cached NSEC records, RFC 8198, may answer it
// while its upstream is down; then the domain keeps the verdict its failed lookups gave).
ResolverReachability check_resolver_answers(dns::Resolver& resolver, std::string_view zone,
                                            Deadline deadline);

inline constexpr std::string_view kNotCheckedResolverUnreachable =
    "not checked: resolver unreachable";

}  // namespace mailtls::domain
