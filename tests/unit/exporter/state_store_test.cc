#include "exporter/runtime/state_store.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

namespace mailtls::exporter {
namespace {

std::string fresh_dir(const std::string& name) {
  auto dir = std::filesystem::path(::testing::TempDir()) / ("state_store_test_" + std::to_string(getpid()) + "_" + name);
  std::filesystem::remove_all(dir);
  return dir.string();
}

TEST(StateStore, RoundTripsThroughTheFile) {
  const auto dir = fresh_dir("roundtrip");
  std::string warning;
  {
    auto s = StateStore::open(dir, &warning);
    EXPECT_TRUE(warning.empty());
    s.put("tlsa", "example.com/mx1", {{"first_seen", 1700000000}});
    std::string err;
    ASSERT_TRUE(s.save(&err)) << err;
  }
  auto s = StateStore::open(dir, &warning);
  EXPECT_TRUE(warning.empty()) << warning;
  EXPECT_EQ(s.get("tlsa", "example.com/mx1")["first_seen"], 1700000000);
  EXPECT_TRUE(s.get("tlsa", "other").is_null());
  EXPECT_TRUE(s.get("nosection", "x").is_null());
  EXPECT_FALSE(std::filesystem::exists(dir + "/state.json.tmp"));
}

// `check` reads the server's state: it must never create, rename or write anything there.
TEST(StateStore, ReadOnlyReadsTheFileAndNeverTouchesTheDisk) {
  const auto dir = fresh_dir("readonly");
  std::string warning;
  {
    auto missing = StateStore::read_only(dir, &warning);
    EXPECT_TRUE(warning.empty());
    EXPECT_TRUE(missing.section("tlsa").empty());
    EXPECT_FALSE(std::filesystem::exists(dir)) << "read_only created the directory";
  }
  {
    auto s = StateStore::open(dir, &warning);
    s.put("tlsa", "k", {{"first_seen", 1700000000}});
    std::string err;
    ASSERT_TRUE(s.save(&err)) << err;
  }
  const auto path = std::filesystem::path(dir) / "state.json";
  const auto written = std::filesystem::last_write_time(path);
  {
    auto s = StateStore::read_only(dir, &warning);
    EXPECT_EQ(s.get("tlsa", "k")["first_seen"], 1700000000);
    s.put("tlsa", "k2", 1);
    std::string err;
    EXPECT_TRUE(s.save(&err)) << err;
  }
  EXPECT_EQ(std::filesystem::last_write_time(path), written) << "read_only wrote the file";
  {
    std::ofstream(path, std::ios::trunc) << "{ not json";
    auto s = StateStore::read_only(dir, &warning);
    EXPECT_NE(warning.find("corrupt"), std::string::npos) << warning;
    EXPECT_NE(warning.find("no history used"), std::string::npos) << warning;
    EXPECT_TRUE(std::filesystem::exists(path)) << "read_only set the server's file aside";
  }
}

TEST(StateStore, CorruptFileIsSetAsideNotFatal) {
  const auto dir = fresh_dir("corrupt");
  std::filesystem::create_directories(dir);
  std::ofstream(dir + "/state.json") << "{\"sections\": {\"tlsa\": [1, 2,";  // torn write
  std::string warning;
  auto s = StateStore::open(dir, &warning);
  EXPECT_NE(warning.find("is corrupt"), std::string::npos) << warning;
  EXPECT_NE(warning.find("set aside as"), std::string::npos) << warning;
  EXPECT_TRUE(s.section("tlsa").empty());
  int aside = 0;
  for (const auto& e : std::filesystem::directory_iterator(dir)) {
    aside += e.path().filename().string().rfind("state.json.corrupt-", 0) == 0;
  }
  EXPECT_EQ(aside, 1);
  // The store keeps working and writes a good file.
  s.put("a", "b", 1);
  std::string err;
  EXPECT_TRUE(s.save(&err)) << err;
  EXPECT_EQ(StateStore::open(dir, &warning).get("a", "b"), 1);
}

TEST(StateStore, UnwritableDirectoryReportsAndKeepsState) {
  if (geteuid() == 0) GTEST_SKIP() << "root can write anywhere";
  const auto dir = fresh_dir("readonly");
  std::string warning;
  auto s = StateStore::open(dir, &warning);
  std::filesystem::permissions(dir, std::filesystem::perms::owner_read | std::filesystem::perms::owner_exec);
  s.put("a", "b", 1);
  std::string err;
  EXPECT_FALSE(s.save(&err));
  EXPECT_NE(err.find("cannot write"), std::string::npos);
  EXPECT_EQ(s.get("a", "b"), 1);
  std::filesystem::permissions(dir, std::filesystem::perms::owner_all);
  EXPECT_TRUE(s.save(&err)) << err;  // still dirty, written now
}

TEST(StateStore, SaveWithoutChangesDoesNotWrite) {
  const auto dir = fresh_dir("nochange");
  std::string warning, err;
  auto s = StateStore::open(dir, &warning);
  ASSERT_TRUE(s.save(&err));
  EXPECT_FALSE(std::filesystem::exists(dir + "/state.json"));
  s.put("x", "y", "z");
  ASSERT_TRUE(s.save(&err));
  EXPECT_TRUE(std::filesystem::exists(dir + "/state.json"));
}

}  // namespace
}  // namespace mailtls::exporter
