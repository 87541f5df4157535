// docs/verdicts.md P7, B16: what MTA-STS senders may still hold, driven by a fake clock (every
// probe is a call with the time the test chooses).
#include "probes/mtasts/sender_cache_model.h"

#include <gtest/gtest.h>

#include <chrono>

namespace mailtls::mtasts {
namespace {

using std::chrono::hours;
using std::chrono::seconds;

const SystemTime kT0 = SystemTime{} + hours(24 * 365 * 55);
constexpr std::int64_t kWeek = 604800;

ServedPolicy policy(const std::string& body, StsMode mode, std::int64_t max_age,
                    std::vector<std::string> mx) {
  return {body, mode, max_age, std::move(mx), {}, {}};
}

// The fake clock and the probes of one domain in order, each fed the history of the last.
class Domain {
 public:
  SenderCacheAssessment serve(const ServedPolicy& p, std::vector<std::string> mx) {
    return probe({PolicyAvailability::kServed, p, std::move(mx)});
  }
  SenderCacheAssessment probe(const SenderCacheObservation& o) {
    auto a = model_sender_cache(history_, o, now);
    history_ = a.history;
    return a;
  }
  SenderCacheAssessment without(PolicyAvailability what, std::vector<std::string> mx) {
    return probe({what, {}, std::move(mx)});
  }
  void advance(SystemTime::duration d) { now += d; }
  // Serves `before` (one MX host), then `after` `wait` later: what a policy change looks like.
  SenderCacheAssessment change(const ServedPolicy& before, SystemTime::duration wait,
                               const ServedPolicy& after, std::vector<std::string> mx) {
    serve(before, {"mx1.example.test"});
    advance(wait);
    return serve(after, std::move(mx));
  }
  SystemTime now = kT0;

 private:
  std::optional<SenderCacheHistory> history_;
};

const auto kEnforceMx1 = policy(std::string(64, 'a'), StsMode::kEnforce, kWeek, {"mx1.example.test"});
const auto kEnforceBoth =
    policy(std::string(64, 'b'), StsMode::kEnforce, kWeek, {"mx1.example.test", "mx2.example.test"});
const auto kTesting = policy(std::string(64, 'c'), StsMode::kTesting, kWeek, {"mx1.example.test"});
const auto kNone = policy(std::string(64, 'd'), StsMode::kNone, 86400, {});

TEST(SenderCacheModel, StatusNamesFollowTheEnum) {
  EXPECT_EQ(sender_cache_status_names(),
            (std::vector<std::string>{"unknown", "no_enforce_cached", "enforce_cached",
                                      "mx_not_covered", "withdrawn_without_none", "downgraded"}));
}

TEST(SenderCacheModel, AnEnforcePolicyServedNowIsCachedForMaxAge) {
  Domain d;
  auto a = d.serve(kEnforceMx1, {"mx1.example.test"});
  EXPECT_EQ(a.status, SenderCacheStatus::kEnforceCached);
  EXPECT_EQ(*a.enforce_expiry, kT0 + seconds(kWeek));
  EXPECT_TRUE(a.mx_coverage.empty());  // only the policy served now: F7 judges it
  d.advance(hours(1));
  a = d.serve(kEnforceMx1, {"mx1.example.test"});
  EXPECT_EQ(*a.enforce_expiry, kT0 + hours(1) + seconds(kWeek));
}

TEST(SenderCacheModel, FirstSightWithoutEnforceIsUnknownThenKnown) {
  Domain d;
  EXPECT_EQ(d.serve(kTesting, {"mx1.example.test"}).status, SenderCacheStatus::kUnknown);
  d.advance(hours(1));
  const auto a = d.serve(kTesting, {"mx1.example.test"});
  EXPECT_EQ(a.status, SenderCacheStatus::kNoEnforceCached);
  EXPECT_FALSE(a.enforce_expiry);
  Domain absent;
  EXPECT_EQ(absent.without(PolicyAvailability::kTxtAbsent, {"mx1.example.test"}).status,
            SenderCacheStatus::kUnknown);
}

// Story 3: an MX added, and the policy updated at the same time.
TEST(SenderCacheModel, NewMxNotCoveredByTheOldEnforcePolicyUntilItExpires) {
  Domain d;
  auto a = d.change(kEnforceMx1, hours(5), kEnforceBoth, {"mx1.example.test", "mx2.example.test"});
  const SystemTime changed = kT0 + hours(5);
  EXPECT_EQ(a.status, SenderCacheStatus::kMxNotCovered);
  ASSERT_EQ(a.mx_coverage.size(), 2u);
  EXPECT_TRUE(a.mx_coverage[0].covered);
  EXPECT_FALSE(a.mx_coverage[1].covered);
  // The old policy may have been fetched up to the probe that saw the change.
  EXPECT_EQ(*a.mx_coverage[1].refused_until, changed + seconds(kWeek));

  d.advance(seconds(kWeek) - seconds(1));
  EXPECT_EQ(d.serve(kEnforceBoth, {"mx1.example.test", "mx2.example.test"}).status,
            SenderCacheStatus::kMxNotCovered);
  d.advance(seconds(1));
  a = d.serve(kEnforceBoth, {"mx1.example.test", "mx2.example.test"});
  EXPECT_EQ(a.status, SenderCacheStatus::kEnforceCached);
  EXPECT_TRUE(a.mx_coverage.empty());
  EXPECT_EQ(a.history.served.size(), 1u);
}

// P7 (B16) example: enforce, max_age one week, fetched at the start; a day later the TXT record is
// deleted and the MX changes to a host the old policy does not match.
TEST(SenderCacheModel, TxtRemovedWithoutModeNoneFailsUntilExpiry) {
  Domain d;
  d.serve(kEnforceMx1, {"mx1.example.test"});
  d.advance(hours(24));
  auto a = d.without(PolicyAvailability::kTxtAbsent, {"mx9.example.test"});
  EXPECT_EQ(a.status, SenderCacheStatus::kWithdrawnWithoutNone);
  EXPECT_EQ(*a.enforce_expiry, kT0 + hours(24) + seconds(kWeek));
  ASSERT_EQ(a.mx_coverage.size(), 1u);
  EXPECT_FALSE(a.mx_coverage[0].covered);
  d.advance(seconds(kWeek));
  a = d.without(PolicyAvailability::kTxtAbsent, {"mx9.example.test"});
  EXPECT_EQ(a.status, SenderCacheStatus::kNoEnforceCached);
  EXPECT_FALSE(a.enforce_expiry);
}

TEST(SenderCacheModel, PolicyUnreachableWhileEnforceCachedIsAWithdrawal) {
  Domain d;
  d.serve(kEnforceMx1, {"mx1.example.test"});
  d.advance(hours(1));
  EXPECT_EQ(d.without(PolicyAvailability::kUnreachable, {"mx1.example.test"}).status,
            SenderCacheStatus::kWithdrawnWithoutNone);
}

TEST(SenderCacheModel, ModeNoneFirstThenRemovalIsTheRightProcedure) {
  Domain d;
  auto a = d.change(kEnforceMx1, hours(1), kNone, {"mx1.example.test"});
  EXPECT_EQ(a.status, SenderCacheStatus::kDowngraded);
  d.advance(hours(1));
  a = d.without(PolicyAvailability::kTxtAbsent, {"mx1.example.test"});
  EXPECT_EQ(a.status, SenderCacheStatus::kEnforceCached);  // senders still hold it, told of none
  d.advance(seconds(kWeek));
  EXPECT_EQ(d.without(PolicyAvailability::kTxtAbsent, {"mx1.example.test"}).status,
            SenderCacheStatus::kNoEnforceCached);
}

TEST(SenderCacheModel, DowngradeToTestingLastsUntilTheEnforceCopyExpires) {
  Domain d;
  auto a = d.change(kEnforceMx1, hours(2), kTesting, {"mx1.example.test"});
  const SystemTime downgraded = kT0 + hours(2);
  EXPECT_EQ(a.status, SenderCacheStatus::kDowngraded);
  EXPECT_EQ(*a.enforce_expiry, downgraded + seconds(kWeek));
  d.advance(seconds(kWeek));
  EXPECT_EQ(d.serve(kTesting, {"mx1.example.test"}).status, SenderCacheStatus::kNoEnforceCached);
}

TEST(SenderCacheModel, AFailedTxtLookupChangesNothing) {
  Domain d;
  const auto before = d.serve(kEnforceMx1, {"mx1.example.test"});
  d.advance(hours(1));
  const auto a = d.without(PolicyAvailability::kLookupFailed, {"mx1.example.test"});
  EXPECT_EQ(a.status, SenderCacheStatus::kEnforceCached);
  EXPECT_EQ(a.history, before.history);
}

TEST(SenderCacheModel, RememberedPoliciesAreBoundedToTheMostRecent) {
  Domain d;
  for (int i = 0; i < 40; ++i) {
    d.serve(policy(std::string(63, 'e') + static_cast<char>('0' + i), StsMode::kEnforce, kWeek,
                   {"mx1.example.test"}),
            {"mx1.example.test"});
    d.advance(seconds(1));
  }
  const auto a = d.serve(kEnforceMx1, {"mx1.example.test"});
  EXPECT_EQ(a.history.served.size(), kMaxRememberedPolicies);
  EXPECT_EQ(a.history.served.back().body_sha256, kEnforceMx1.body_sha256);
}

}  // namespace
}  // namespace mailtls::mtasts
