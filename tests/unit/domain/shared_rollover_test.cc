// Two views of one MX host's rollover history merged (probes/domain/shared_rollover.h): the later
// observations decide what is there now, and no first-seen time becomes later than either view's.

#include "probes/domain/shared_rollover.h"

#include <gtest/gtest.h>

namespace mailtls::domain {
namespace {

using namespace std::chrono;

const SystemTime kT0 = SystemTime(seconds(1800000000));

dane::RolloverHistory view(SystemTime since, SystemTime probed) {
  dane::RolloverHistory h;
  h.tracking_since = since;
  h.ttl_seconds = 60;
  h.records.push_back({"3 1 1 abab", since, probed, probed});
  h.keys.push_back({"127.0.1.1", "", "aa", since});
  return h;
}

TEST(SharedRollover, TheEarlierFirstSeenOfTheSameRecordAndKeyIsKept) {
  const auto old_view = view(kT0, kT0 + minutes(5));
  const auto fresh = view(kT0 + hours(1), kT0 + hours(1));  // a domain's first probe of the MX host
  for (const auto& merged : {merge_rollover_views(old_view, fresh), merge_rollover_views(fresh, old_view)}) {
    EXPECT_EQ(merged.tracking_since, kT0);
    ASSERT_EQ(merged.records.size(), 1u);
    EXPECT_EQ(merged.records[0].first_seen, kT0);
    EXPECT_EQ(merged.records[0].last_seen, kT0 + hours(1));
    EXPECT_EQ(merged.records[0].last_in_use, kT0 + hours(1));
    ASSERT_EQ(merged.keys.size(), 1u);
    EXPECT_EQ(merged.keys[0].first_seen, kT0);
  }
}

TEST(SharedRollover, TheLaterViewSaysWhatIsThereNow) {
  auto before = view(kT0, kT0 + minutes(5));
  before.records.push_back({"3 1 1 cdcd", kT0, kT0 + minutes(5), std::nullopt});
  before.keys.push_back({"::1", "", "aa", kT0});
  auto after = view(kT0, kT0 + minutes(10));
  after.keys[0] = {"127.0.1.1", "", "cc", kT0 + minutes(10)};  // a new key at 127.0.1.1
  after.records[0].last_in_use.reset();
  after.too_fast_until = kT0 + minutes(12);
  before.too_fast_until = kT0 + minutes(11);
  for (const auto& merged : {merge_rollover_views(before, after), merge_rollover_views(after, before)}) {
    // The record gone from the RRset is gone; the record still there keeps when it was in use.
    ASSERT_EQ(merged.records.size(), 1u);
    EXPECT_EQ(merged.records[0].record, "3 1 1 abab");
    EXPECT_EQ(merged.records[0].last_in_use, kT0 + minutes(5));
    ASSERT_EQ(merged.keys.size(), 2u);
    EXPECT_EQ(merged.keys[0].spki_sha256, "cc");
    EXPECT_EQ(merged.keys[0].first_seen, kT0 + minutes(10));
    EXPECT_EQ(merged.keys[1].address, "::1");  // only the older view saw this address
    EXPECT_EQ(merged.too_fast_until, kT0 + minutes(12));
  }
}

TEST(SharedRollover, KeysStayBounded) {
  auto a = view(kT0, kT0 + minutes(5));
  auto b = view(kT0, kT0 + minutes(6));
  for (std::size_t i = 0; i < dane::kMaxRememberedKeys; ++i) {
    a.keys.push_back({"10.0.0." + std::to_string(i), "", "aa", kT0});
    b.keys.push_back({"10.0.1." + std::to_string(i), "", "aa", kT0 + minutes(1)});
  }
  const auto merged = merge_rollover_views(a, b);
  EXPECT_EQ(merged.keys.size(), dane::kMaxRememberedKeys);
  EXPECT_EQ(merged.keys.back().first_seen, kT0 + minutes(1));  // the most recently first seen
}

}  // namespace
}  // namespace mailtls::domain
