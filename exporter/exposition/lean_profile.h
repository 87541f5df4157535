#pragma once
// The lean metrics profile (metrics.profile: lean, docs/metrics.md "Profiles"): cuts the full
// families of one domain (domain_metrics.h) down to what the shipped alerts and the overview
// dashboard need while nothing is wrong, and keeps the full detail while something is.
//
//   - State sets (dane_status, mtasts_status, mtasts_sender_cache_status, dane_rollover_phase)
//     carry only their current state (value 1), never the states that are 0.
//   - A domain that needs_detail() keeps every other series of the full profile.
//   - A domain that does not keeps only the families kLeanFamilies lists, with two summaries:
//     of its RRSIG expiry times the earliest, of its SMTP phase durations the TLS handshake.
// The handshake histogram is never part of the lean profile (the caller leaves it out).

#include <prometheus/metric_family.h>

#include <string_view>
#include <vector>

#include "probes/domain/domain_report.h"

namespace mailtls::exporter {

// Whether the report shows something wrong that the detail series explain: a DANE, MTA-STS or
// sender-cache state that is not a good one, a bogus RRset, an address without a connection,
// STARTTLS or DANE match, an MX host not covered by the policy, more than one TLSA record that
// matches nowhere (stale, F2), a renewal without a TLSA update (F1), a key switched too fast,
// a policy that cannot be fetched or changed without its id. Warnings that depend on a time
// (expiry, rollover readiness, a slow handshake) are not in it: the lean series carry the
// times, and the alert rules compare them with their thresholds.
bool needs_detail(const domain::DomainReport& report);

// Whether a domain that does not need_detail() keeps the family `name` in the lean profile:
// a MetricBuilder filter (metric_builder.h), so the other families are never built.
bool lean_family(std::string_view name);

// The lean cut of `full` (domain_metrics() of `report` in the full profile).
std::vector<prometheus::MetricFamily> lean_families(std::vector<prometheus::MetricFamily> full,
                                                    const domain::DomainReport& report);

}  // namespace mailtls::exporter
