// The one rule for the monitor's own resolver faults (no_verdict.h): a resolver that answers
// without validating DNSSEC, or does not answer at all, gives "no verdict", never the domain's
// bogus/broken.

#include "probes/domain/no_verdict.h"

#include <gtest/gtest.h>

#include "probes/domain/resolver_outage.h"
#include "tests/fakes/fake_resolver.h"

namespace mailtls::domain {
namespace {

using std::chrono::hours;
using std::chrono::seconds;

// What a probe through a resolver with a wrong trust anchor reports: every RRset bogus, DANE
// "bogus", MTA-STS "broken" (its TXT lookup failed), TLS-RPT missing.
DomainReport report_through_wrong_anchor() {
  DomainReport r;
  r.domain = "example.test";
  r.probe_success = true;
  r.dane_status = dane::DaneStatus::kBogus;
  r.mtasts.checked = true;
  r.mtasts.status = mtasts::MtaStsStatus::kBroken;
  r.tlsrpt.checked = true;
  r.rrsets.push_back(RrsetStatus{"example.test", "MX", dns::Security::kBogus, dns::Outcome::kError,
                                 std::chrono::system_clock::now() + hours(48), "no DS"});
  r.rrsets.push_back(RrsetStatus{"_mta-sts.example.test", "TXT", dns::Security::kSecure,
                                 dns::Outcome::kData, std::nullopt, ""});
  return r;
}

ResolverSelfTestState self_test(ResolverValidation v) {
  return {v, v == ResolverValidation::kNotValidating
                 ? "known-signed name did not validate secure: signed.test A: bogus"
                 : "signed.test A: secure data"};
}

// The resolver as the runtime observed it: its self-test, and when the report has unanswered
// lookups, whether `resolver` answers at all (the runtime asks; the judge only reads).
std::optional<NoVerdictReason> judge(DomainReport& r, dns::Resolver& resolver,
                                     ResolverValidation v) {
  ResolverObservation observed{self_test(v), std::nullopt};
  if (has_unanswered_lookup(r.rrsets)) {
    observed.reachability = check_resolver_answers(resolver, "signed.test", Deadline::after(seconds(1)));
  }
  return judge_resolver_faults(r, observed);
}

TEST(NoVerdict, ResolverNotValidatingMeansNoVerdictNotBogus) {
  testing::FakeResolver resolver;
  auto r = report_through_wrong_anchor();
  EXPECT_EQ(judge(r, resolver, ResolverValidation::kNotValidating),
            NoVerdictReason::kResolverNotValidating);
  EXPECT_EQ(r.no_verdict, NoVerdictReason::kResolverNotValidating);
  EXPECT_FALSE(r.probe_success);
  EXPECT_EQ(r.probe_error,
            "resolver not validating: known-signed name did not validate secure: "
            "signed.test A: bogus");
  EXPECT_EQ(domain::to_string(r.dane_status), "not checked: resolver not validating");
  EXPECT_EQ(domain::to_string(r.mtasts.status), "not checked: resolver not validating");
  EXPECT_EQ(r.tlsrpt.error, "not checked: resolver not validating");
  // DNSSEC states unknown, the resolver's word kept for the log; no RRSIG expiry to alert on.
  for (const auto& s : r.rrsets) {
    EXPECT_EQ(s.security, dns::Security::kIndeterminate) << s.name;
    EXPECT_FALSE(s.rrsig_expiry) << s.name;
  }
  EXPECT_EQ(r.rrsets[0].reason, "not validated, the resolver said bogus (no DS)");
  EXPECT_EQ(r.rrsets[1].reason, "not validated, the resolver said secure");
  ASSERT_FALSE(r.log.empty());
  EXPECT_NE(r.log.back().find("not the domain's"), std::string::npos) << r.log.back();
  // The resolver answers (bogus is an answer): no reachability question was needed.
  EXPECT_EQ(resolver.lookups(), 0);
}

TEST(NoVerdict, ValidatingResolverLeavesTheDomainsVerdict) {
  testing::FakeResolver resolver;
  auto r = report_through_wrong_anchor();
  EXPECT_EQ(judge(r, resolver, ResolverValidation::kValidating), std::nullopt);
  EXPECT_TRUE(r.probe_success);
  EXPECT_FALSE(r.no_verdict);
  EXPECT_EQ(domain::to_string(r.dane_status), "bogus");
  EXPECT_EQ(domain::to_string(r.mtasts.status), "broken");
  EXPECT_EQ(r.rrsets[0].security, dns::Security::kBogus);
  EXPECT_TRUE(r.rrsets[0].rrsig_expiry);
}

TEST(NoVerdict, SelfTestNotFinishedWithholdsNothingButSaysSo) {
  testing::FakeResolver resolver;
  auto r = report_through_wrong_anchor();
  EXPECT_EQ(judge(r, resolver, ResolverValidation::kNotTested), std::nullopt);
  EXPECT_TRUE(r.probe_success);
  EXPECT_EQ(domain::to_string(r.dane_status), "bogus");
  ASSERT_FALSE(r.log.empty());
  EXPECT_NE(r.log.back().find("not confirmed"), std::string::npos);
}

// An unreachable resolver fails its self-test too; the more precise reason wins.
TEST(NoVerdict, UnreachableResolverIsTheReasonEvenWhenTheSelfTestFails) {
  testing::FakeResolver resolver;
  resolver.unreachable_for_unscripted();
  auto r = report_through_wrong_anchor();
  r.rrsets[0].security = dns::Security::kIndeterminate;  // SERVFAIL: no answer
  EXPECT_EQ(judge(r, resolver, ResolverValidation::kNotValidating),
            NoVerdictReason::kResolverUnreachable);
  EXPECT_EQ(r.no_verdict, NoVerdictReason::kResolverUnreachable);
  EXPECT_EQ(domain::to_string(r.dane_status), kNotCheckedResolverUnreachable);
  EXPECT_EQ(r.probe_error.rfind("resolver unreachable: ", 0), 0u) << r.probe_error;
}

// A probe that also ran out of time: the resolver is the cause, and its reason is what pages.
TEST(NoVerdict, ResolverReasonReplacesTimeout) {
  testing::FakeResolver resolver;
  auto r = report_through_wrong_anchor();
  mark_no_verdict(r, NoVerdictReason::kTimeout, "the probe did not finish within its timeout");
  EXPECT_EQ(domain::to_string(r.dane_status), "not checked: timeout");
  EXPECT_EQ(domain::to_string(r.mtasts.status), "broken") << "a timeout leaves the parts that finished alone";
  EXPECT_EQ(judge(r, resolver, ResolverValidation::kNotValidating),
            NoVerdictReason::kResolverNotValidating);
  EXPECT_EQ(r.no_verdict, NoVerdictReason::kResolverNotValidating);
  EXPECT_EQ(domain::to_string(r.mtasts.status), "not checked: resolver not validating");
}

TEST(NoVerdict, ReasonsAreBoundedLabelValues) {
  EXPECT_EQ(to_string(NoVerdictReason::kTimeout), "timeout");
  EXPECT_EQ(to_string(NoVerdictReason::kResolverUnreachable), "resolver_unreachable");
  EXPECT_EQ(to_string(NoVerdictReason::kResolverNotValidating), "resolver_not_validating");
  EXPECT_EQ(not_checked_status(NoVerdictReason::kTimeout), "not checked: timeout");
  EXPECT_EQ(not_checked_status(NoVerdictReason::kResolverUnreachable),
            "not checked: resolver unreachable");
}

}  // namespace
}  // namespace mailtls::domain
