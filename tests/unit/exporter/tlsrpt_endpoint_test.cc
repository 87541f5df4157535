// POST /tlsrpt on a running exporter, with the curl command-line client: counters in /metrics,
// duplicates counted once (also after a restart), a gzip bomb and a 100 MB body refused with
// 413 while the exporter keeps serving, mailed reports imported from a Maildir.

#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <thread>

#include "exporter/runtime/exporter.h"
#include "tests/unit/exporter/http_get.h"

namespace mailtls::exporter {
namespace {

namespace fs = std::filesystem;
const fs::path kData = fs::path(MAILTLS_SOURCE_DIR) / "tests/data/tlsrpt";

std::string run(const std::string& cmd) {
  std::string out;
  FILE* p = popen(cmd.c_str(), "r");
  if (!p) return out;
  char buf[4096];
  while (size_t n = fread(buf, 1, sizeof buf, p)) out.append(buf, n);
  pclose(p);
  return out;
}

class TlsRptEndpoint : public ::testing::Test {
 protected:
  void SetUp() override {
    if (std::system("command -v curl >/dev/null 2>&1") != 0) GTEST_SKIP() << "curl not installed";
    dir_ = fs::path(::testing::TempDir()) / ("tlsrpt_endpoint_test_" + std::to_string(getpid()));
    fs::remove_all(dir_);
    fs::create_directories(dir_ / "maildir/new");
    std::ofstream(dir_ / "config.yml")
        << "tlsrpt_receiver:\n  enabled: true\n  max_body_bytes: 1048576\n"
        << "  max_decompressed_bytes: 4194304\n  maildir: maildir\n  accept_unsigned_mail: true\n"
        // No domains are configured, so only a known organization keeps its own label.
        << "  known_organizations: [\"Google Inc.\"]\n";
    start();
  }
  void TearDown() override { stop(); }
  void start() {
    Flags flags;
    flags.listen_address = "127.0.0.1:0";
    flags.config_file = (dir_ / "config.yml").string();
    flags.storage_path = (dir_ / "state").string();
    auto loaded = load_config_file(flags.config_file);
    ASSERT_TRUE(loaded) << loaded.error();
    exporter_ = std::make_unique<Exporter>(flags, *loaded);
    std::string error;
    ASSERT_TRUE(exporter_->start(&error)) << error;
    server_ = std::thread([this] { exporter_->serve(); });
  }
  void stop() {
    if (exporter_) exporter_->shutdown();
    if (server_.joinable()) server_.join();
    exporter_.reset();
  }
  // Returns "<status>" from curl.
  std::string post(const std::string& file, const std::string& type) {
    return run("curl -s -o /dev/null -w '%{http_code}' --max-time 60 -H 'Content-Type: " + type +
               "' --data-binary @" + file + " http://127.0.0.1:" + std::to_string(exporter_->port()) +
               "/tlsrpt");
  }
  std::string metrics() { return mailtls::testing::http_get(exporter_->port(), "/metrics").body; }
  // The watcher reads new/ at start: true once it has taken every message. Bounded (60 s), not
  // timed: a loaded machine only makes it wait longer.
  bool maildir_new_emptied() {
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
    while (std::chrono::steady_clock::now() < deadline) {
      if (fs::is_empty(dir_ / "maildir/new")) return true;
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    return false;
  }
  // Puts a message into new/ while no exporter runs: a running watcher could read a file half
  // copied (an MTA writes to tmp/ and renames; a copy does not) and refuse it as malformed.
  void deliver_while_stopped(const std::string& data_file, const std::string& name) {
    stop();
    fs::copy_file(kData / data_file, dir_ / "maildir/new" / name);
  }

  fs::path dir_;
  std::unique_ptr<Exporter> exporter_;
  std::thread server_;
};

TEST_F(TlsRptEndpoint, CountsReportsOnceAcrossRestarts) {
  EXPECT_EQ(post((kData / "google-sts.json.gz").string(), "application/tlsrpt+gzip"), "200");
  EXPECT_EQ(post((kData / "rfc8460-appendix-b.json").string(), "application/tlsrpt+json"), "200");
  EXPECT_EQ(post((kData / "google-sts.json.gz").string(), "application/tlsrpt+gzip"), "200");  // retry
  auto m = metrics();
  EXPECT_NE(m.find("mailtls_tlsrpt_reports_total{organization=\"Google Inc.\"} 1\n"), std::string::npos) << m;
  EXPECT_NE(m.find("mailtls_tlsrpt_report_failures_total{"), std::string::npos);
  EXPECT_NE(m.find("mailtls_tlsrpt_report_sessions_total{"), std::string::npos);
  stop();
  start();
  EXPECT_EQ(post((kData / "google-sts.json.gz").string(), "application/tlsrpt+gzip"), "200");
  m = metrics();
  EXPECT_NE(m.find("mailtls_tlsrpt_reports_total{organization=\"Google Inc.\"} 1\n"), std::string::npos) << m;
}

TEST_F(TlsRptEndpoint, RefusesBadInputAndKeepsServing) {
  std::ofstream(dir_ / "garbage.json") << "{not json";
  EXPECT_EQ(post((dir_ / "garbage.json").string(), "application/tlsrpt+json"), "400");
  EXPECT_EQ(post((dir_ / "garbage.json").string(), "text/html"), "415");
  // A gzip bomb: 64 MiB of zeros, far over the 4 MiB decompression cap.
  ASSERT_EQ(std::system(("head -c 67108864 /dev/zero | gzip -1 > " + (dir_ / "bomb.gz").string()).c_str()), 0);
  EXPECT_EQ(post((dir_ / "bomb.gz").string(), "application/tlsrpt+gzip"), "413");
  // A 100 MB body, refused by the size cap.
  ASSERT_EQ(std::system(("head -c 104857600 /dev/zero > " + (dir_ / "huge.bin").string()).c_str()), 0);
  EXPECT_EQ(post((dir_ / "huge.bin").string(), "application/tlsrpt+json"), "413");
  fs::remove(dir_ / "huge.bin");
  EXPECT_EQ(mailtls::testing::http_get(exporter_->port(), "/-/healthy").status, 200);
  const auto m = metrics();
  EXPECT_NE(m.find("mailtls_tlsrpt_reports_rejected_total{reason=\"bad_json\"} 1"), std::string::npos) << m;
  EXPECT_NE(m.find("mailtls_tlsrpt_reports_rejected_total{reason=\"decompressed_too_large\"} 1"), std::string::npos);
  EXPECT_NE(m.find("mailtls_tlsrpt_reports_rejected_total{reason=\"too_large\"} 1"), std::string::npos);
  EXPECT_NE(m.find("mailtls_tlsrpt_reports_rejected_total{reason=\"bad_content_type\"} 1"), std::string::npos);
}

TEST_F(TlsRptEndpoint, ImportsMailedReportsFromTheMaildir) {
  // The watcher reads new/ at start and every 30 s; a restart makes it read now.
  deliver_while_stopped("mail-multipart-report.eml", "1.eml");
  deliver_while_stopped("mail-malformed-no-boundary.eml", "2.eml");
  start();
  ASSERT_TRUE(maildir_new_emptied());
  EXPECT_TRUE(fs::exists(dir_ / "maildir/cur/1.eml:2,S"));
  const auto m = metrics();
  EXPECT_NE(m.find("mailtls_tlsrpt_reports_total{"), std::string::npos) << m;
  EXPECT_NE(m.find("mailtls_tlsrpt_reports_rejected_total{reason=\"mime\"} 1"), std::string::npos) << m;
}

// R5 (docs/robustness.md): a report that cannot be saved is not acknowledged. A directory where
// the state's temporary file must go makes every save fail, also for root.
TEST_F(TlsRptEndpoint, ReportThatCannotBeSavedGets503AndCountsOnceOnRetry) {
  const auto blocker = dir_ / "state/state.json.tmp";
  fs::create_directories(blocker);
  EXPECT_EQ(post((kData / "google-sts.json.gz").string(), "application/tlsrpt+gzip"), "503");
  auto m = metrics();
  EXPECT_EQ(m.find("mailtls_tlsrpt_reports_total{organization=\"Google Inc.\"}"), std::string::npos) << m;
  // A mailed report stays in new/ until it can be saved.
  deliver_while_stopped("mail-multipart-report.eml", "1.eml");
  start();
  std::this_thread::sleep_for(std::chrono::milliseconds(500));
  EXPECT_TRUE(fs::exists(dir_ / "maildir/new/1.eml"));
  fs::remove(blocker);
  EXPECT_EQ(post((kData / "google-sts.json.gz").string(), "application/tlsrpt+gzip"), "200");  // the retry
  EXPECT_EQ(post((kData / "google-sts.json.gz").string(), "application/tlsrpt+gzip"), "200");  // a duplicate
  m = metrics();
  EXPECT_NE(m.find("mailtls_tlsrpt_reports_total{organization=\"Google Inc.\"} 1\n"), std::string::npos) << m;
  stop();
  start();
  EXPECT_TRUE(maildir_new_emptied());
  m = metrics();
  EXPECT_NE(m.find("mailtls_tlsrpt_reports_total{organization=\"Google Inc.\"} 1\n"), std::string::npos) << m;
}

}  // namespace
}  // namespace mailtls::exporter
