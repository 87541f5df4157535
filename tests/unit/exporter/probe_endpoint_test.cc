// /probe against hostile or unlucky input (issue 17, findings 18 and 19): a probe
// that throws gives its concurrency slot back, X-Prometheus-Scrape-Timeout-Seconds is parsed
// strictly, and an allow-list entry written with a trailing dot matches.
#include <gtest/gtest.h>
#include <httplib.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <mutex>
#include <stdexcept>
#include <thread>
#include <vector>

#include "exporter/runtime/exporter.h"
#include "tests/unit/exporter/http_get.h"
#include "tests/unit/exporter/scripted_prober.h"

namespace mailtls::exporter {
namespace {

using mailtls::testing::http_get;
using mailtls::testing::sample_report;
using mailtls::testing::ScriptedProber;

class ProbeEndpoint : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::path(::testing::TempDir()) /
           ("probe_endpoint_test_" + std::to_string(getpid()) + "_" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::remove_all(dir_);
    std::filesystem::create_directories(dir_);
  }
  void TearDown() override {
    if (exporter_) exporter_->shutdown();
    if (server_.joinable()) server_.join();
    exporter_.reset();
    std::filesystem::remove_all(dir_);
  }

  // Domains are probed once a day, so only /probe calls the prober.
  void start(const std::string& config_text) {
    std::ofstream(dir_ / "config.yml") << config_text;
    Flags flags;
    flags.listen_address = "127.0.0.1:0";
    flags.config_file = (dir_ / "config.yml").string();
    flags.storage_path = (dir_ / "state").string();
    auto loaded = load_config_file(flags.config_file);
    ASSERT_TRUE(loaded.config) << loaded.error;
    prober_ = std::make_shared<ScriptedProber>([this](const DomainConfig& d) {
      {
        std::lock_guard lock(mu_);
        timeouts_.push_back(d.timeout);
      }
      if (d.name == "throws.example") throw std::runtime_error("the prober failed");
      return sample_report(d.name);
    });
    auto factory = [this](const Config&, std::string*) -> std::shared_ptr<DomainProber> { return prober_; };
    exporter_ = std::make_unique<Exporter>(flags, *loaded.config, WebConfig{}, factory);
    std::string error;
    ASSERT_TRUE(exporter_->start(&error)) << error;
    server_ = std::thread([this] { exporter_->serve(); });
  }

  // The timeout the prober was given for /probe?target=a.example with this header.
  std::chrono::milliseconds timeout_with_header(const std::string& value) {
    httplib::Client client("127.0.0.1", exporter_->port());
    auto res = client.Get("/probe?target=a.example", {{"X-Prometheus-Scrape-Timeout-Seconds", value}});
    EXPECT_TRUE(res) << value;
    if (res) {
      EXPECT_EQ(res->status, 200) << value;
    }
    std::lock_guard lock(mu_);
    return timeouts_.empty() ? std::chrono::milliseconds(-1) : timeouts_.back();
  }

  std::filesystem::path dir_;
  std::shared_ptr<ScriptedProber> prober_;
  std::unique_ptr<Exporter> exporter_;
  std::thread server_;
  std::mutex mu_;
  std::vector<std::chrono::milliseconds> timeouts_;
};

constexpr const char* kConfig =
    "defaults: {interval: 24h, timeout: 20s}\n"
    "domains: [a.example, throws.example]\n";

// adhoc_probes_ was incremented before probe() and decremented after it: a throwing probe
// kept its slot, and after four of them every /probe was answered 429.
TEST_F(ProbeEndpoint, AProbeThatThrowsGivesItsSlotBack) {
  start(kConfig);
  const int port = exporter_->port();
  for (int i = 0; i < 10; ++i) {
    EXPECT_EQ(http_get(port, "/probe?target=throws.example").status, 500) << "attempt " << i;
  }
  const auto after = http_get(port, "/probe?target=a.example");
  EXPECT_EQ(after.status, 200) << after.body;
  EXPECT_NE(http_get(port, "/metrics").body.find("mailtls_probes_in_flight 0"), std::string::npos);
}

TEST_F(ProbeEndpoint, ScrapeTimeoutHeaderShortensTheProbeOnlyWhenItIsAPlainNumber) {
  start(kConfig);
  using std::chrono::milliseconds;
  EXPECT_EQ(timeout_with_header("10"), milliseconds(9500));
  EXPECT_EQ(timeout_with_header("2.5"), milliseconds(2000));
  // Anything else leaves the configured 20 s: std::stod took "3abc" as 3 and "0x5" as 5, and
  // inf, nan and 1e300 s were cast to an integer (undefined behaviour).
  for (const char* v : {"3abc", "0x5", "inf", "-inf", "nan", "1e300", "-3", "0", "0.4",
                        "", "+5", "5 s", "1e1"}) {
    EXPECT_EQ(timeout_with_header(v), milliseconds(20000)) << "header \"" << v << "\"";
  }
  // Longer than the configured timeout: the configured one stays.
  EXPECT_EQ(timeout_with_header("60"), milliseconds(20000));
}

TEST_F(ProbeEndpoint, AllowListEntryWithTrailingDotMatches) {
  start("defaults: {interval: 24h, timeout: 20s}\n"
        "probe_allow_list: [\"Listed.Example.\", \"*.Customers.Example.\"]\n"
        "domains: [a.example]\n");
  const int port = exporter_->port();
  EXPECT_EQ(http_get(port, "/probe?target=listed.example").status, 200);
  EXPECT_EQ(http_get(port, "/probe?target=LISTED.example.").status, 200);
  EXPECT_EQ(http_get(port, "/probe?target=shop.customers.example").status, 200);
  EXPECT_EQ(http_get(port, "/probe?target=customers.example").status, 403);
  EXPECT_EQ(http_get(port, "/probe?target=other.example").status, 403);
}

}  // namespace
}  // namespace mailtls::exporter
