// docs/verdicts.md P3 / F6: change tracking of (id, body hash).
#include "probes/mtasts/policy_history.h"

#include <gtest/gtest.h>

#include <chrono>

namespace mailtls::mtasts {
namespace {

using std::chrono::hours;
const SystemTime kT0 = SystemTime{} + hours(24 * 365 * 54);
const std::string kH1(64, 'a');
const std::string kH2(64, 'b');

TEST(PolicyHistory, FirstSightRecordsBothTimes) {
  const auto u = update_policy_history(std::nullopt, "1", kH1, kT0);
  EXPECT_TRUE(u.first_seen);
  EXPECT_FALSE(u.id_changed);
  EXPECT_FALSE(u.changed_without_id_change);
  EXPECT_EQ(u.record.id, "1");
  EXPECT_EQ(u.record.body_sha256, kH1);
  EXPECT_EQ(u.record.id_last_change_time, kT0);
  EXPECT_EQ(u.record.body_last_change_time, kT0);
}

TEST(PolicyHistory, NothingChangedKeepsTheRecord) {
  const auto first = update_policy_history(std::nullopt, "1", kH1, kT0).record;
  const auto u = update_policy_history(first, "1", kH1, kT0 + hours(24));
  EXPECT_FALSE(u.first_seen);
  EXPECT_FALSE(u.id_changed);
  EXPECT_FALSE(u.body_changed);
  EXPECT_FALSE(u.changed_without_id_change);
  EXPECT_EQ(u.record, first);
}

// The P3 vector: yesterday id=1/H1, today id=1/H2 -> FAIL, raised until the id changes.
TEST(PolicyHistory, BodyChangedUnderTheSameIdStaysRaisedUntilTheIdChanges) {
  const auto day0 = update_policy_history(std::nullopt, "1", kH1, kT0).record;
  const auto day1 = update_policy_history(day0, "1", kH2, kT0 + hours(24));
  EXPECT_TRUE(day1.changed_without_id_change);
  EXPECT_TRUE(day1.body_changed);
  EXPECT_EQ(day1.record.body_last_change_time, kT0 + hours(24));
  EXPECT_EQ(day1.record.id_last_change_time, kT0);

  const auto day2 = update_policy_history(day1.record, "1", kH2, kT0 + hours(48));
  EXPECT_TRUE(day2.changed_without_id_change) << "stable body, still the old id";
  EXPECT_FALSE(day2.body_changed);

  const auto day3 = update_policy_history(day2.record, "2", kH2, kT0 + hours(72));
  EXPECT_FALSE(day3.changed_without_id_change);
  EXPECT_TRUE(day3.id_changed);
  EXPECT_EQ(day3.record.id_last_change_time, kT0 + hours(72));
  EXPECT_EQ(day3.record.body_last_change_time, kT0 + hours(24));
}

TEST(PolicyHistory, IdAndBodyChangingTogetherIsTheCorrectProcedure) {
  const auto day0 = update_policy_history(std::nullopt, "1", kH1, kT0).record;
  const auto u = update_policy_history(day0, "2", kH2, kT0 + hours(1));
  EXPECT_TRUE(u.id_changed);
  EXPECT_TRUE(u.body_changed);
  EXPECT_FALSE(u.changed_without_id_change);
  EXPECT_FALSE(u.id_changed_body_unchanged);
}

TEST(PolicyHistory, IdChangedWithoutBodyChangeIsNoted) {
  const auto day0 = update_policy_history(std::nullopt, "1", kH1, kT0).record;
  const auto u = update_policy_history(day0, "2", kH1, kT0 + hours(1));
  EXPECT_TRUE(u.id_changed);
  EXPECT_TRUE(u.id_changed_body_unchanged);
  EXPECT_FALSE(u.changed_without_id_change);
  EXPECT_EQ(u.record.body_last_change_time, kT0);
}

TEST(PolicyHistory, FailedFetchLeavesTheBodyAlone) {
  const auto day0 = update_policy_history(std::nullopt, "1", kH1, kT0).record;
  const auto same_id = update_policy_history(day0, "1", "", kT0 + hours(1));
  EXPECT_EQ(same_id.record, day0);
  EXPECT_FALSE(same_id.changed_without_id_change);

  const auto new_id = update_policy_history(day0, "2", "", kT0 + hours(2));
  EXPECT_TRUE(new_id.id_changed);
  EXPECT_FALSE(new_id.id_changed_body_unchanged) << "the body is unknown, not unchanged";
  EXPECT_EQ(new_id.record.body_sha256, kH1);
}

TEST(PolicyHistory, FirstBodyAfterFailedFetchesIsNotAChange) {
  const auto day0 = update_policy_history(std::nullopt, "1", "", kT0).record;
  const auto u = update_policy_history(day0, "1", kH1, kT0 + hours(1));
  EXPECT_FALSE(u.changed_without_id_change);
  EXPECT_FALSE(u.body_changed);
  EXPECT_EQ(u.record.body_sha256, kH1);
}

}  // namespace
}  // namespace mailtls::mtasts
