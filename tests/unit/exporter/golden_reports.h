#pragma once
// Hand-built, fully fixed probe reports (no clock, no network) for the golden tests of the
// renderers: one per kind of domain users scrape (DANE valid/broken/none, MTA-STS
// enforce/broken, no verdict, several MX hosts with IPv4 and IPv6, null MX).

#include <vector>

#include "probes/base/clock.h"
#include "probes/domain/domain_report.h"

namespace mailtls::testing {

// The moment the golden reports were "probed": 2026-03-01 00:00:00 UTC.
SystemTime golden_now();

// Each as the scheduler stores it (judged: history fields filled).
std::vector<domain::DomainReport> golden_reports();

// "healthy-single-mx.example": nothing wrong, one MX host with one IPv4 and one IPv6 address,
// DANE (a current and a next key), MTA-STS enforce, TLS-RPT, every RRset signed; judged with a
// history (rollover steady, an enforce policy cached). What the lean profile is measured on.
domain::DomainReport golden_healthy_single_mx_report();

// A probe of "no-verdict.example" through a resolver that does not validate, and the last
// probe of it that gave a verdict (what /metrics keeps).
domain::DomainReport golden_no_verdict_report();
domain::DomainReport golden_no_verdict_previous_report();

}  // namespace mailtls::testing
