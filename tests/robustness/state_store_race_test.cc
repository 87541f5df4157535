// StateStore::save() from several threads at once, as the exporter does it: every probe thread
// saves after a probe and the TLS-RPT receiver saves after each POST, with no lock in common.
// The file on disk must always be a loadable document, and after the last save it must hold the
// last values. (Robustness finding R1, fixed: save() wrote every snapshot through the one
// fixed "state.json.tmp" path outside the store's lock, so two concurrent saves interleaved
// their bytes in the same temp file and one of them renamed the mixture into place.)
#include <gtest/gtest.h>
#include <unistd.h>

#include <atomic>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "exporter/runtime/state_store.h"

namespace mailtls::exporter {
namespace {

std::string read_file(const std::filesystem::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

class StateStoreRaceTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() /
           ("mailtls_state_race_" + std::to_string(::getpid()));
    std::filesystem::remove_all(dir_);
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }
  std::filesystem::path dir_;
};

TEST_F(StateStoreRaceTest, ConcurrentSavesNeverLeaveACorruptFileAndKeepTheLastValues) {
  std::string warning;
  auto store = StateStore::open(dir_.string(), &warning);
  ASSERT_TRUE(warning.empty()) << warning;

  constexpr int kThreads = 4;
  constexpr int kRounds = 400;
  std::atomic<bool> done{false};
  std::atomic<int> unreadable{0};
  std::atomic<int> save_failures{0};
  std::string first_bad;
  // A reader that parses the file as a restart would: it must never see a broken document.
  std::thread reader([&] {
    while (!done) {
      const auto text = read_file(dir_ / "state.json");
      if (text.empty()) continue;  // not written yet
      auto doc = nlohmann::json::parse(text, nullptr, false);
      if (doc.is_discarded() && unreadable++ == 0) first_bad = text.substr(0, 200);
    }
  });
  std::vector<std::thread> writers;
  for (int t = 0; t < kThreads; ++t) {
    writers.emplace_back([&, t] {
      for (int i = 1; i <= kRounds; ++i) {
        // Values of different lengths per thread, so interleaved writes cannot line up.
        store.put("counters", "thread" + std::to_string(t), i);
        store.put("padding", "thread" + std::to_string(t), std::string(static_cast<std::size_t>(50 * (t + 1) + i % 7), 'x'));
        std::string err;
        if (!store.save(&err)) ++save_failures;
      }
    });
  }
  for (auto& w : writers) w.join();
  done = true;
  reader.join();
  std::string err;
  store.put("final", "marker", true);
  ASSERT_TRUE(store.save(&err)) << err;

  EXPECT_EQ(unreadable.load(), 0) << "a reader saw a corrupt state.json, e.g.: " << first_bad;
  EXPECT_EQ(save_failures.load(), 0) << "saves failed (a concurrent saver renamed the shared "
                                        "temp file away)";
  std::string reopen_warning;
  auto reopened = StateStore::open(dir_.string(), &reopen_warning);
  EXPECT_TRUE(reopen_warning.empty()) << reopen_warning;
  for (int t = 0; t < kThreads; ++t) {
    EXPECT_EQ(reopened.get("counters", "thread" + std::to_string(t)), kRounds) << "thread " << t;
  }
}

}  // namespace
}  // namespace mailtls::exporter
