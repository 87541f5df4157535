#pragma once
// The explicit "no verdict" of a probe, decided here and nowhere else. A probe that could not
// finish (timeout) or whose resolver is at fault (unreachable, or answering without
// validating DNSSEC) says nothing about the domain: its DANE and MTA-STS statuses become
// "not checked: <why>" instead of broken/bogus, and the exporter and `check` render the
// reason (a closed set, so a bounded metric label) instead of blaming the domain.

#include <optional>
#include <string>
#include <string_view>

#include "probes/domain/domain_report.h"

namespace mailtls::domain {

// "timeout" | "resolver_unreachable" | "resolver_not_validating": the metric label value.
std::string_view to_string(NoVerdictReason reason);
// "not checked: timeout" | "not checked: resolver unreachable" |
// "not checked: resolver not validating": the status the verdicts get.
std::string_view not_checked_status(NoVerdictReason reason);

inline constexpr std::string_view kNotCheckedResolverNotValidating =
    "not checked: resolver not validating";

// Marks `r` as a probe without a verdict: probe_success false, probe_error `error`,
// no_verdict `reason`, the DANE status (and for the resolver reasons the MTA-STS status and
// TLS-RPT) "not checked: ...". When the resolver does not validate, every RRset's DNSSEC
// state becomes indeterminate (what the resolver said stays in its reason) and its RRSIG
// expiry is dropped: none of it was validated.
void mark_no_verdict(DomainReport& r, NoVerdictReason reason, std::string error);

// What the resolver's DNSSEC self-test (dns/resolver_self_test.h) last said.
enum class ResolverValidation { kNotTested, kValidating, kNotValidating };
struct ResolverSelfTestState {
  ResolverValidation validation = ResolverValidation::kNotTested;
  std::string reason;  // the self-test's own account (what was asked, what came back)
};

// Whether the resolver answers anything at all (resolver_outage.h asks it).
struct ResolverReachability {
  bool answers = false;
  std::string detail;  // what was asked and what came back
};

// What the runtime observed of its own resolver for one probe: the last self-test, and, only
// when the probe had lookups without an answer, whether the resolver answers at all.
struct ResolverObservation {
  ResolverSelfTestState self_test;
  std::optional<ResolverReachability> reachability;
};

// The rule for the monitor's resolver faults, applied to every finished probe by judge():
// 1. lookups without an answer and a resolver that answers no question at all:
//    kResolverUnreachable;
// 2. otherwise a failed self-test: kResolverNotValidating, whatever the lookups returned
//    (bogus from a wrong trust anchor, insecure from an upstream stripping DNSSEC).
// A self-test that has not finished yet withholds nothing (the log says the verdicts are not
// confirmed). Returns the reason it gave, if any; a resolver reason replaces a timeout (it is
// the cause). Pure.
std::optional<NoVerdictReason> judge_resolver_faults(DomainReport& r,
                                                     const ResolverObservation& resolver);

}  // namespace mailtls::domain
