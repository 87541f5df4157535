// The sender-cache histories (T12 rollover, P7 served policies) in the state file: they survive a
// restart (a save and a new StateStore on the same directory), a state file of the previous
// version (without them) reads as "no history", and damaged entries are not trusted.

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "exporter/runtime/domain_history.h"
#include "tests/unit/exporter/history_test_preamble.h"

namespace mailtls::exporter {
namespace {

using namespace history_tests;

domain::TlsaRecordReport record(std::uint8_t fill, const std::string& matched_at) {
  domain::TlsaRecordReport t;
  t.record = {3, 1, 1, std::vector<std::uint8_t>(32, fill)};
  t.usable = true;
  for (const char* addr : {"127.0.1.1", "::1"}) t.matches[addr] = matched_at == addr || matched_at == "all";
  return t;
}

// The sample domain with its current record and a next one published (TTL 60 s).
domain::DomainReport with_next_record() {
  auto r = sample_report("a.example");
  r.mx[0].tlsa_original_ttl = 60;
  r.mx[0].tlsa.push_back(record(0xcd, ""));
  return r;
}

class TempDir {
 public:
  TempDir() : path_(std::filesystem::temp_directory_path() / ("mailtls-sch-" + std::to_string(::getpid()))) {
    std::filesystem::remove_all(path_);
  }
  ~TempDir() { std::filesystem::remove_all(path_); }
  std::string str() const { return path_.string(); }

 private:
  std::filesystem::path path_;
};

TEST(SenderCacheHistory, RolloverAndServedPoliciesSurviveARestart) {
  TempDir dir;
  std::string warning;
  {
    auto state = StateStore::open(dir.str(), &warning);
    auto steady = sample_report("a.example");
    steady.mx[0].tlsa_original_ttl = 60;
    apply_history(steady, state, kT0);
    auto next = with_next_record();
    apply_history(next, state, kT0 + minutes(10));
    ASSERT_EQ(next.mx[0].rollover_phase, dane::RolloverPhase::kNextPublished);
    EXPECT_EQ(*next.mx[0].rollover_safe_to_switch, kT0 + minutes(10) + seconds(120));
    ASSERT_EQ(next.mtasts.sender_cache_status, mtasts::SenderCacheStatus::kEnforceCached);
    std::string error;
    ASSERT_TRUE(state.save(&error)) << error;
  }
  auto state = StateStore::open(dir.str(), &warning);
  EXPECT_TRUE(warning.empty()) << warning;
  auto after = with_next_record();
  apply_history(after, state, kT0 + minutes(12));
  // Without the saved history this would be "unknown" (a next record of unknown age).
  EXPECT_EQ(after.mx[0].rollover_phase, dane::RolloverPhase::kNextSafe);
  EXPECT_EQ(*after.mx[0].rollover_safe_to_switch, kT0 + minutes(10) + seconds(120));
  ASSERT_TRUE(after.mtasts.cached_enforce_expiry);
  EXPECT_EQ(after.mtasts.sender_cache_status, mtasts::SenderCacheStatus::kEnforceCached);

  // The switch to the next key, one probe after the restart: in time, so no warning.
  auto switched = with_next_record();
  switched.mx[0].tlsa[0].matches = {{"127.0.1.1", false}, {"::1", false}};
  switched.mx[0].tlsa[1] = record(0xcd, "all");
  for (auto& a : switched.mx[0].addresses) a.leaf->spki_sha256 = std::string(64, 'c');
  apply_history(switched, state, kT0 + minutes(13));
  EXPECT_EQ(switched.mx[0].rollover_phase, dane::RolloverPhase::kOldRecordRemovable);
}

TEST(SenderCacheHistory, AStateFileOfThePreviousVersionIsReadAsNoHistory) {
  TempDir dir;
  std::filesystem::create_directories(dir.str());
  std::ofstream(dir.str() + "/state.json")
      << R"({"format": 1, "sections": {"tlsa_rrsets": {"a.example mx.a.example": )"
      << R"({"digest": "x", "first_seen": 1700000000}}, "mtasts_policies": {}}})";
  std::string warning;
  auto state = StateStore::open(dir.str(), &warning);
  EXPECT_TRUE(warning.empty()) << warning;
  auto r = with_next_record();
  apply_history(r, state, kT0);
  EXPECT_EQ(r.mx[0].rollover_phase, dane::RolloverPhase::kUnknown);
  EXPECT_EQ(r.mtasts.sender_cache_status, mtasts::SenderCacheStatus::kEnforceCached);
}

TEST(SenderCacheHistory, DamagedEntriesStartAgain) {
  auto state = StateStore::in_memory();
  state.put(kRolloverSection, "a.example mx.a.example",
            {{"tracking_since", "yesterday"}, {"records", 7}, {"keys", {{{"address", 1}}}}});
  state.put(kServedPoliciesSection, "a.example",
            {{"tracking_since", 1}, {"served", {{{"body_sha256", "x"}, {"max_age", "long"}}}}});
  auto r = with_next_record();
  apply_history(r, state, kT0);
  EXPECT_EQ(r.mx[0].rollover_phase, dane::RolloverPhase::kUnknown);
  EXPECT_EQ(r.mtasts.sender_cache_status, mtasts::SenderCacheStatus::kEnforceCached);
  EXPECT_EQ(state.get(kServedPoliciesSection, "a.example")["served"].size(), 1u);
}

// /probe and `check` see the same phase as the server without changing the history.
TEST(SenderCacheHistory, ReadOnlyViewGivesTheServersPhase) {
  auto state = StateStore::in_memory();
  auto steady = sample_report("a.example");
  steady.mx[0].tlsa_original_ttl = 60;
  apply_history(steady, state, kT0);
  auto served = with_next_record();
  apply_history(served, state, kT0 + minutes(1));
  const auto before = state.section(kMxRolloverSection);
  auto viewed = with_next_record();
  apply_history_read_only(viewed, state, kT0 + minutes(5));
  EXPECT_EQ(viewed.mx[0].rollover_phase, dane::RolloverPhase::kNextSafe);
  EXPECT_EQ(state.section(kMxRolloverSection), before);
}

}  // namespace
}  // namespace mailtls::exporter
