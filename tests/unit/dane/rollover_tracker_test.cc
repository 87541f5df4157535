// docs/verdicts.md T12: rollover discipline from the history of TLSA records and presented keys,
// driven by a fake clock (every probe is a call with the time the test chooses).
#include "probes/dane/rollover_tracker.h"

#include <gtest/gtest.h>

#include <chrono>

namespace mailtls::dane {
namespace {

using std::chrono::hours;
using std::chrono::minutes;
using std::chrono::seconds;

const SystemTime kT0 = SystemTime{} + hours(24 * 365 * 55);
const std::string kOld = "3 1 1 " + std::string(64, 'a');
const std::string kNext = "3 1 1 " + std::string(64, 'b');
const std::string kOldKey(64, '1');
const std::string kNextKey(64, '2');

// The fake clock and the probes of one MX host in order, each fed the history of the last.
class Mx {
 public:
  explicit Mx(std::uint32_t ttl) : ttl_(ttl) {}
  RolloverAssessment probe(std::vector<std::string> records, std::vector<PresentedChain> chains) {
    RolloverObservation o{std::move(records), ttl_, std::move(chains)};
    auto a = track_rollover(history_, o, now);
    history_ = a.history;
    return a;
  }
  void advance(SystemTime::duration d) { now += d; }
  void lose_state() { history_.reset(); }
  SystemTime now = kT0;

 private:
  std::optional<std::uint32_t> ttl_;
  std::optional<RolloverHistory> history_;
};

PresentedChain at(const std::string& address, const std::string& key, std::vector<std::string> matching) {
  return {address, "", key, std::move(matching)};
}

TEST(RolloverTracker, PhaseNamesFollowTheEnum) {
  EXPECT_EQ(rollover_phase_names(),
            (std::vector<std::string>{"unknown", "steady", "next_published", "next_safe",
                                      "switched_too_fast", "old_record_removable"}));
}

TEST(RolloverTracker, CorrectRolloverGoesThroughEveryPhaseWithoutWarning) {
  Mx mx(300);
  auto a = mx.probe({kOld}, {at("192.0.2.1", kOldKey, {kOld})});
  EXPECT_EQ(a.phase, RolloverPhase::kSteady);
  EXPECT_FALSE(a.safe_to_switch);

  mx.advance(hours(1));
  const SystemTime published = mx.now;
  a = mx.probe({kOld, kNext}, {at("192.0.2.1", kOldKey, {kOld})});
  EXPECT_EQ(a.phase, RolloverPhase::kNextPublished);
  ASSERT_TRUE(a.safe_to_switch);
  EXPECT_EQ(*a.safe_to_switch, published + seconds(600));

  mx.advance(seconds(599));
  EXPECT_EQ(mx.probe({kOld, kNext}, {at("192.0.2.1", kOldKey, {kOld})}).phase,
            RolloverPhase::kNextPublished);
  mx.advance(seconds(1));
  a = mx.probe({kOld, kNext}, {at("192.0.2.1", kOldKey, {kOld})});
  EXPECT_EQ(a.phase, RolloverPhase::kNextSafe);
  EXPECT_EQ(*a.safe_to_switch, published + seconds(600));

  mx.advance(seconds(10));
  a = mx.probe({kOld, kNext}, {at("192.0.2.1", kNextKey, {kNext})});
  EXPECT_EQ(a.phase, RolloverPhase::kOldRecordRemovable);
  EXPECT_FALSE(a.safe_to_switch);

  mx.advance(minutes(5));
  a = mx.probe({kNext}, {at("192.0.2.1", kNextKey, {kNext})});
  EXPECT_EQ(a.phase, RolloverPhase::kSteady);
}

TEST(RolloverTracker, SwitchAtOnceIsTooFastUntilTwoTtlAfterTheRecordAppeared) {
  Mx mx(300);
  mx.probe({kOld}, {at("192.0.2.1", kOldKey, {kOld})});
  mx.advance(hours(1));
  const SystemTime switched = mx.now;
  auto a = mx.probe({kOld, kNext}, {at("192.0.2.1", kNextKey, {kNext})});
  EXPECT_EQ(a.phase, RolloverPhase::kSwitchedTooFast);
  ASSERT_TRUE(a.safe_to_switch);
  EXPECT_EQ(*a.safe_to_switch, switched + seconds(600));

  mx.advance(seconds(599));
  EXPECT_EQ(mx.probe({kOld, kNext}, {at("192.0.2.1", kNextKey, {kNext})}).phase,
            RolloverPhase::kSwitchedTooFast);
  mx.advance(seconds(1));
  a = mx.probe({kOld, kNext}, {at("192.0.2.1", kNextKey, {kNext})});
  EXPECT_EQ(a.phase, RolloverPhase::kOldRecordRemovable);
  EXPECT_FALSE(a.history.too_fast_until);
}

// T12 example: TTL 3600, new TLSA seen at 10:00, new certificate at 10:30.
TEST(RolloverTracker, StandardsVectorWarnsWithTheSafeTime) {
  Mx mx(3600);
  mx.probe({kOld}, {at("192.0.2.1", kOldKey, {kOld})});
  mx.advance(hours(10));
  const SystemTime ten = mx.now;
  mx.probe({kOld, kNext}, {at("192.0.2.1", kOldKey, {kOld})});
  mx.advance(minutes(30));
  const auto a = mx.probe({kOld, kNext}, {at("192.0.2.1", kNextKey, {kNext})});
  EXPECT_EQ(a.phase, RolloverPhase::kSwitchedTooFast);
  EXPECT_EQ(*a.safe_to_switch, ten + hours(2));
}

TEST(RolloverTracker, OneAddressSwitchingTooFastIsEnough) {
  Mx mx(60);
  mx.probe({kOld}, {at("192.0.2.1", kOldKey, {kOld}), at("2001:db8::1", kOldKey, {kOld})});
  mx.advance(minutes(10));
  const auto a = mx.probe({kOld, kNext}, {at("192.0.2.1", kOldKey, {kOld}),
                                          at("2001:db8::1", kNextKey, {kNext})});
  EXPECT_EQ(a.phase, RolloverPhase::kSwitchedTooFast);
}

TEST(RolloverTracker, KeyTypesAreTrackedApart) {
  Mx mx(60);
  const PresentedChain rsa{"192.0.2.1", "rsa", kOldKey, {kOld}};
  PresentedChain ecdsa{"192.0.2.1", "ecdsa", kNextKey, {kNext}};
  mx.probe({kOld, kNext}, {rsa, ecdsa});
  mx.advance(minutes(10));
  // Both keys stay where they were: no switch, although the address presents two keys.
  EXPECT_EQ(mx.probe({kOld, kNext}, {rsa, ecdsa}).phase, RolloverPhase::kSteady);
}

TEST(RolloverTracker, FirstRunSaysUnknownForANextKeyUntilTwoTtlHavePassed) {
  Mx mx(300);
  auto a = mx.probe({kOld, kNext}, {at("192.0.2.1", kOldKey, {kOld})});
  EXPECT_EQ(a.phase, RolloverPhase::kUnknown);
  ASSERT_TRUE(a.safe_to_switch);
  EXPECT_EQ(*a.safe_to_switch, kT0 + seconds(600));  // the latest it can become safe
  mx.advance(seconds(599));
  EXPECT_EQ(mx.probe({kOld, kNext}, {at("192.0.2.1", kOldKey, {kOld})}).phase, RolloverPhase::kUnknown);
  mx.advance(seconds(1));
  EXPECT_EQ(mx.probe({kOld, kNext}, {at("192.0.2.1", kOldKey, {kOld})}).phase, RolloverPhase::kNextSafe);
}

TEST(RolloverTracker, LostStateNeverWarnsAboutRecordsOfUnknownAge) {
  Mx mx(300);
  mx.probe({kOld}, {at("192.0.2.1", kOldKey, {kOld})});
  mx.advance(hours(1));
  mx.probe({kOld, kNext}, {at("192.0.2.1", kOldKey, {kOld})});
  mx.lose_state();
  mx.advance(seconds(10));
  auto a = mx.probe({kOld, kNext}, {at("192.0.2.1", kOldKey, {kOld})});
  EXPECT_EQ(a.phase, RolloverPhase::kUnknown);
  mx.advance(seconds(10));
  a = mx.probe({kOld, kNext}, {at("192.0.2.1", kNextKey, {kNext})});
  EXPECT_NE(a.phase, RolloverPhase::kSwitchedTooFast);
}

TEST(RolloverTracker, WithoutTtlOrChainItCannotSay) {
  RolloverObservation no_ttl{{kOld, kNext}, std::nullopt, {at("192.0.2.1", kOldKey, {kOld})}};
  auto a = track_rollover(std::nullopt, no_ttl, kT0);
  EXPECT_EQ(a.phase, RolloverPhase::kUnknown);
  a = track_rollover(a.history, no_ttl, kT0 + hours(5));
  EXPECT_EQ(a.phase, RolloverPhase::kUnknown);
  EXPECT_FALSE(a.safe_to_switch);

  Mx mx(300);
  EXPECT_EQ(mx.probe({kOld}, {}).phase, RolloverPhase::kUnknown);
}

TEST(RolloverTracker, AKeyWithoutRecordIsForTheDaneVerdictNotARollover) {
  Mx mx(300);
  mx.probe({kOld}, {at("192.0.2.1", kOldKey, {kOld})});
  mx.advance(hours(1));
  const auto a = mx.probe({kOld}, {at("192.0.2.1", kNextKey, {})});
  EXPECT_EQ(a.phase, RolloverPhase::kUnknown);
  EXPECT_FALSE(a.history.too_fast_until);
}

TEST(RolloverTracker, TheLargerOfTheOldAndNewTtlCounts) {
  Mx before(3600);
  before.probe({kOld}, {at("192.0.2.1", kOldKey, {kOld})});
  auto history = before.probe({kOld}, {at("192.0.2.1", kOldKey, {kOld})}).history;
  // The TTL was lowered to 60 s in the same change that published the next record.
  const SystemTime t = kT0 + hours(1);
  RolloverObservation o{{kOld, kNext}, 60, {at("192.0.2.1", kOldKey, {kOld})}};
  const auto a = track_rollover(history, o, t);
  EXPECT_EQ(a.phase, RolloverPhase::kNextPublished);
  EXPECT_EQ(*a.safe_to_switch, t + hours(2));
  EXPECT_EQ(a.history.ttl_seconds, 60u);
}

TEST(RolloverTracker, ARecordThatLeftAndCameBackStartsAgain) {
  Mx mx(300);
  mx.probe({kOld, kNext}, {at("192.0.2.1", kOldKey, {kOld})});
  mx.advance(hours(1));
  mx.probe({kOld}, {at("192.0.2.1", kOldKey, {kOld})});
  mx.advance(minutes(1));
  const SystemTime back = mx.now;
  const auto a = mx.probe({kOld, kNext}, {at("192.0.2.1", kOldKey, {kOld})});
  EXPECT_EQ(a.phase, RolloverPhase::kNextPublished);
  EXPECT_EQ(*a.safe_to_switch, back + seconds(600));
}

TEST(RolloverTracker, RememberedKeysAreBounded) {
  Mx mx(60);
  std::vector<PresentedChain> chains;
  for (int i = 0; i < 100; ++i) chains.push_back(at("192.0.2." + std::to_string(i), kOldKey, {kOld}));
  const auto a = mx.probe({kOld}, chains);
  EXPECT_EQ(a.history.keys.size(), kMaxRememberedKeys);
}

}  // namespace
}  // namespace mailtls::dane
