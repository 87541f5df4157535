#include "probes/domain/resolver_outage.h"

#include <string_view>

#include <gtest/gtest.h>

#include "tests/fakes/fake_resolver.h"

namespace mailtls::domain {
namespace {

DomainReport report_with_failed_mx_lookup(dns::Security security) {
  DomainReport r;
  r.domain = "example.test";
  r.probe_success = true;
  r.dane_status = dane::DaneStatus::kBogus;
  r.mtasts.checked = true;
  r.mtasts.status = mtasts::MtaStsStatus::kBroken;
  r.tlsrpt.checked = true;
  r.rrsets.push_back(RrsetStatus{"example.test", "MX", security, dns::Outcome::kError, std::nullopt,
                                 "SERVFAIL"});
  return r;
}

// What the runtime does for a probe with unanswered lookups, then the rule (judge_resolver_faults):
// true when the probe got no verdict because the resolver answers nothing.
bool mark_resolver_outage(DomainReport& r, dns::Resolver& resolver, std::string_view zone) {
  ResolverObservation observed{{ResolverValidation::kValidating, ""}, std::nullopt};
  if (has_unanswered_lookup(r.rrsets)) {
    observed.reachability = check_resolver_answers(resolver, zone, Deadline::after(std::chrono::seconds(1)));
  }
  return judge_resolver_faults(r, observed) == NoVerdictReason::kResolverUnreachable;
}

TEST(ResolverOutage, UnreachableResolverMeansNoVerdict) {
  testing::FakeResolver resolver;
  resolver.unreachable_for_unscripted();
  auto r = report_with_failed_mx_lookup(dns::Security::kIndeterminate);
  EXPECT_TRUE(mark_resolver_outage(r, resolver, "signed.test"));
  EXPECT_FALSE(r.probe_success);
  EXPECT_EQ(r.no_verdict, NoVerdictReason::kResolverUnreachable);
  EXPECT_EQ(r.probe_error.rfind("resolver unreachable: A mailtls-", 0), 0u) << r.probe_error;
  EXPECT_NE(r.probe_error.find(".signed.test: error"), std::string::npos) << r.probe_error;
  EXPECT_EQ(domain::to_string(r.dane_status), kNotCheckedResolverUnreachable);
  EXPECT_EQ(domain::to_string(r.mtasts.status), kNotCheckedResolverUnreachable);
  EXPECT_EQ(r.tlsrpt.error, kNotCheckedResolverUnreachable);
  EXPECT_EQ(resolver.lookups(), 1);
}

TEST(ResolverOutage, AnsweringResolverLeavesTheDomainsVerdict) {
  testing::FakeResolver resolver;  // unscripted names: secure NXDOMAIN
  auto r = report_with_failed_mx_lookup(dns::Security::kIndeterminate);
  EXPECT_FALSE(mark_resolver_outage(r, resolver, ""));
  EXPECT_TRUE(r.probe_success);
  EXPECT_EQ(domain::to_string(r.dane_status), "bogus");
  EXPECT_EQ(domain::to_string(r.mtasts.status), "broken");
  ASSERT_FALSE(r.log.empty());
  EXPECT_NE(r.log.back().find("the failed lookups are the domain's"), std::string::npos);
}

TEST(ResolverOutage, BogusAnswersAreAnswersAndNeedNoCheck) {
  testing::FakeResolver resolver;
  resolver.unreachable_for_unscripted();
  auto r = report_with_failed_mx_lookup(dns::Security::kBogus);
  EXPECT_FALSE(mark_resolver_outage(r, resolver, ""));
  EXPECT_TRUE(r.probe_success);
  EXPECT_EQ(domain::to_string(r.dane_status), "bogus");
  EXPECT_EQ(resolver.lookups(), 0);
}

TEST(ResolverOutage, EachCheckAsksADifferentNameUnderTheZone) {
  testing::FakeResolver resolver;
  const auto a = check_resolver_answers(resolver, "signed.test", Deadline::after(std::chrono::seconds(1)));
  const auto b = check_resolver_answers(resolver, "signed.test", Deadline::after(std::chrono::seconds(1)));
  EXPECT_TRUE(a.answers);
  EXPECT_NE(a.detail, b.detail);
  const auto root = check_resolver_answers(resolver, ".", Deadline::after(std::chrono::seconds(1)));
  EXPECT_EQ(root.detail.find(".signed.test"), std::string::npos);
  EXPECT_EQ(root.detail.find(". "), std::string::npos) << root.detail;  // "A mailtls-<hex>: ..."
}

}  // namespace
}  // namespace mailtls::domain
