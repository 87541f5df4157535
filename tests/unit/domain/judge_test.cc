// judge() over hand-built observations: no network, no clock, no state file. The resolver's
// state and the history are given by the test, and what the judge would remember is checked.
#include "probes/domain/judge.h"

#include <gtest/gtest.h>

#include "probes/base/sha256.h"

namespace mailtls::domain {
namespace {

using namespace std::chrono;

const SystemTime kT0 = SystemTime(seconds(1800000000));

dns::Answer answer(const std::string& name, dns::RrType type, dns::Security security,
                   dns::Outcome outcome) {
  dns::Answer a;
  a.qname = name;
  a.type = type;
  a.security = security;
  a.outcome = outcome;
  return a;
}

// example.test: its MX RRset as `mx_security` / `mx_outcome` say, no MX host probed, and a valid
// MTA-STS record and policy (mode testing) whose body is `body`.
DomainObservation observed(dns::Security mx_security, dns::Outcome mx_outcome,
                           const std::string& body = "version: STSv1\nmode: testing\nmx: mx.example.test\nmax_age: 86400\n") {
  DomainObservation o;
  o.domain = "example.test";
  o.check_tlsrpt = false;
  o.mx.domain = o.domain;
  o.mx.status = mx_outcome == dns::Outcome::kData ? dns::MxStatus::kMxRecords : dns::MxStatus::kLookupFailed;
  o.mx.mx_answer = answer(o.domain, dns::RrType::kMx, mx_security, mx_outcome);
  mtasts::MtaStsProbeResult m;
  m.policy_domain = o.domain;
  m.txt.qname = "_mta-sts.example.test";
  m.txt.outcome = dns::Outcome::kData;
  m.txt.security = dns::Security::kSecure;
  m.txt.txt.record.id = "20260101";
  mtasts::PolicyFetchResult f;
  f.ok = true;
  f.body = body;
  f.body_sha256 = sha256_hex(body);
  m.fetch = f;
  m.policy = mtasts::parse_sts_policy(body);
  o.policies.mtasts = m;
  o.policies.mtasts_in_time = true;
  o.finished = kT0;
  return o;
}

ResolverObservation validating() { return {{ResolverValidation::kValidating, "signed.test A: secure"}, std::nullopt}; }

TEST(Judge, ResolverNotValidatingGivesNoVerdictAndRemembersNothingNew) {
  const auto o = observed(dns::Security::kBogus, dns::Outcome::kError);
  DomainHistory history;
  history.mtasts_policy = mtasts::PolicyHistoryRecord{"20250101", "x", kT0 - hours(1), kT0 - hours(1), false};
  const ResolverObservation resolver{{ResolverValidation::kNotValidating, "signed.test A: bogus"}, std::nullopt};
  const auto j = judge(o, resolver, history, kT0);
  EXPECT_EQ(j.verdict.no_verdict, NoVerdictReason::kResolverNotValidating);
  EXPECT_FALSE(j.verdict.probe_success);
  EXPECT_EQ(to_string(j.verdict.dane_status), "not checked: resolver not validating");
  EXPECT_EQ(to_string(j.verdict.mtasts.status), "not checked: resolver not validating");
  EXPECT_EQ(j.remember, history);
  // The same observation with a validating resolver: the domain's own bogus.
  const auto trusted = judge(o, validating(), history, kT0);
  EXPECT_FALSE(trusted.verdict.no_verdict);
  EXPECT_EQ(to_string(trusted.verdict.dane_status), "bogus");
}

// Precedence (docs/verdicts.md): an unreachable resolver is the cause of a timeout and of a
// failed self-test alike; a timeout alone is a timeout.
TEST(Judge, NoVerdictPrecedence) {
  auto o = observed(dns::Security::kIndeterminate, dns::Outcome::kError);
  o.deadline_expired = true;
  const auto timed_out = judge(o, validating(), {}, kT0);
  EXPECT_EQ(timed_out.verdict.no_verdict, NoVerdictReason::kTimeout);
  const ResolverObservation unreachable{{ResolverValidation::kNotValidating, "no answer"},
                                        ResolverReachability{false, "A mailtls-x.signed.test: error"}};
  const auto j = judge(o, unreachable, {}, kT0);
  EXPECT_EQ(j.verdict.no_verdict, NoVerdictReason::kResolverUnreachable);
  EXPECT_EQ(j.verdict.probe_error, "resolver unreachable: A mailtls-x.signed.test: error");
  EXPECT_EQ(to_string(j.verdict.mtasts.status), "not checked: resolver unreachable");
  // A resolver that answers: the failed lookups are the domain's.
  o.deadline_expired = false;
  const ResolverObservation answers{{ResolverValidation::kValidating, ""}, ResolverReachability{true, "NXDOMAIN"}};
  const auto domains = judge(o, answers, {}, kT0);
  EXPECT_FALSE(domains.verdict.no_verdict);
  EXPECT_EQ(to_string(domains.verdict.dane_status), "bogus");
}

// F6 through judge(): the policy history given in, the verdict and the next history out.
TEST(Judge, PolicyChangedWithoutIdChangeFromTheGivenHistory) {
  const auto first = judge(observed(dns::Security::kSecure, dns::Outcome::kData), validating(), {}, kT0);
  EXPECT_TRUE(first.verdict.probe_success);
  EXPECT_FALSE(first.verdict.mtasts.changed_without_id_change);
  ASSERT_TRUE(first.remember.mtasts_policy);
  const auto edited = observed(dns::Security::kSecure, dns::Outcome::kData,
                               "version: STSv1\nmode: testing\nmx: mx.example.test\nmax_age: 86401\n");
  const auto second = judge(edited, validating(), first.remember, kT0 + hours(1));
  EXPECT_TRUE(second.verdict.mtasts.changed_without_id_change);
  EXPECT_EQ(second.verdict.mtasts.id_last_change, kT0);
  // The same observation judged without that history (a fresh server): no change seen.
  EXPECT_FALSE(judge(edited, validating(), {}, kT0 + hours(1)).verdict.mtasts.changed_without_id_change);
  // Judging is pure: the same inputs give the same verdict and the same history.
  const auto again = judge(edited, validating(), first.remember, kT0 + hours(1));
  EXPECT_EQ(again.remember, second.remember);
  EXPECT_EQ(again.verdict.log, second.verdict.log);
}

}  // namespace
}  // namespace mailtls::domain
