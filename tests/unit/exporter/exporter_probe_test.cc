// The exporter with a scripted prober: scheduled results reach /metrics, /probe obeys the
// allow-list, reload drops removed domains, history survives a restart.

#include <gtest/gtest.h>
#include <unistd.h>

#include <atomic>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <thread>

#include "exporter/runtime/exporter.h"
#include "probes/domain/no_verdict.h"
#include "tests/fakes/fake_resolver.h"
#include "tests/unit/exporter/http_get.h"
#include "tests/unit/exporter/scripted_prober.h"

namespace mailtls::exporter {
namespace {

using mailtls::testing::http_get;
using mailtls::testing::http_post;
using mailtls::testing::sample_report;
using mailtls::testing::ScriptedProber;

bool eventually(const std::function<bool()>& cond) {
  for (int i = 0; i < 500; ++i) {
    if (cond()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return false;
}

class ProbingExporter : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::path(::testing::TempDir()) /
           ("exporter_probe_test_" + std::to_string(getpid()) + "_" + std::string(::testing::UnitTest::GetInstance()->current_test_info()->name()));
    std::filesystem::remove_all(dir_);
    std::filesystem::create_directories(dir_);
    write_config("defaults: {interval: 1h, timeout: 5s}\n"
                 "probe_allow_list: ['*.allowed.example']\n"
                 "domains: [a.example, b.example]\n");
  }
  void TearDown() override { stop(); }

  void write_config(const std::string& text) { std::ofstream(dir_ / "config.yml") << text; }
  void start() {
    Flags flags;
    flags.listen_address = "127.0.0.1:0";
    flags.config_file = (dir_ / "config.yml").string();
    flags.storage_path = (dir_ / "state").string();
    auto loaded = load_config_file(flags.config_file);
    ASSERT_TRUE(loaded) << loaded.error();
    prober_ = std::make_shared<ScriptedProber>(script_);
    auto factory = [this](const Config&, std::string*) -> std::shared_ptr<DomainProber> {
      return prober_;
    };
    exporter_ = std::make_unique<Exporter>(flags, *loaded, WebConfig{}, factory);
    std::string error;
    ASSERT_TRUE(exporter_->start(&error)) << error;
    server_ = std::thread([this] { exporter_->serve(); });
  }
  void stop() {
    if (exporter_) exporter_->shutdown();
    if (server_.joinable()) server_.join();
    exporter_.reset();
  }
  std::string metrics() { return http_get(exporter_->port(), "/metrics").body; }

  std::filesystem::path dir_;
  ScriptedProber::Script script_ = [](const DomainConfig& d) { return sample_report(d.name); };
  std::shared_ptr<ScriptedProber> prober_;
  std::unique_ptr<Exporter> exporter_;
  std::thread server_;
};

TEST_F(ProbingExporter, ScheduledResultsReachMetrics) {
  start();
  ASSERT_TRUE(eventually([&] { return exporter_->probes_completed() >= 2; }));
  const auto m = metrics();
  EXPECT_NE(m.find("mailtls_probe_success{domain=\"a.example\"} 1"), std::string::npos) << m;
  EXPECT_NE(m.find("mailtls_dane_status{domain=\"b.example\",status=\"valid\"} 1"), std::string::npos);
  EXPECT_NE(m.find("mailtls_dane_status{domain=\"b.example\",status=\"broken\"} 0"), std::string::npos);
  EXPECT_NE(m.find("mailtls_dane_match{domain=\"a.example\",mx=\"mx.a.example\",address=\"::1\"} 1"),
            std::string::npos);
  std::string hex;
  for (int i = 0; i < 32; ++i) hex += "ab";
  EXPECT_NE(m.find("mailtls_dane_tlsa_record_match{domain=\"a.example\",mx=\"mx.a.example\",address=\"127.0.1.1\",usage=\"3\",selector=\"1\",matching_type=\"1\",data=\"" + hex + "\"} 1"), std::string::npos);
  EXPECT_NE(m.find("mailtls_mtasts_status{domain=\"a.example\",status=\"enforced\"} 1"), std::string::npos);
  EXPECT_NE(m.find("mailtls_dane_tlsa_rrset_first_seen_timestamp_seconds{domain=\"a.example\",mx=\"mx.a.example\"}"), std::string::npos);
  EXPECT_NE(m.find("mailtls_starttls_handshake_seconds_count{domain=\"a.example\"} 2"), std::string::npos);
  EXPECT_NE(m.find("mailtls_probes_in_flight 0"), std::string::npos);
  EXPECT_NE(m.find("mailtls_resolver_dnssec_validating 1"), std::string::npos);
  EXPECT_NE(m.find("mailtls_scheduler_lag_seconds"), std::string::npos);
}

TEST_F(ProbingExporter, MetricsPassPromtool) {
  if (std::system("command -v promtool >/dev/null 2>&1") != 0) GTEST_SKIP() << "promtool not installed";
  start();
  ASSERT_TRUE(eventually([&] { return exporter_->probes_completed() >= 2; }));
  std::ofstream(dir_ / "metrics.txt") << metrics();
  const std::string cmd = "promtool check metrics < " + (dir_ / "metrics.txt").string() + " > " +
                          (dir_ / "promtool.txt").string() + " 2>&1";
  const int rc = std::system(cmd.c_str());
  std::ifstream in(dir_ / "promtool.txt");
  std::string out((std::istreambuf_iterator<char>(in)), {});
  EXPECT_EQ(rc, 0) << out;
  EXPECT_EQ(out, "") << "promtool warnings";
}

TEST_F(ProbingExporter, ProbeEndpointAllowList) {
  start();
  const int port = exporter_->port();
  auto ok = http_get(port, "/probe?target=a.example");
  EXPECT_EQ(ok.status, 200);
  EXPECT_NE(ok.body.find("mailtls_probe_success{domain=\"a.example\"} 1"), std::string::npos);
  EXPECT_EQ(ok.body.find("b.example"), std::string::npos);  // its own registry
  EXPECT_EQ(http_get(port, "/probe?target=x.allowed.example").status, 200);
  EXPECT_EQ(http_get(port, "/probe?target=allowed.example").status, 403);
  auto denied = http_get(port, "/probe?target=victim.example");
  EXPECT_EQ(denied.status, 403);
  EXPECT_NE(denied.body.find("neither configured nor in probe_allow_list"), std::string::npos);
  EXPECT_EQ(http_get(port, "/probe").status, 400);
  EXPECT_EQ(http_get(port, "/probe?target=bad%20name").status, 400);
  auto debug = http_get(port, "/probe?target=a.example&debug=true");
  EXPECT_NE(debug.body.find("Logs for the probe:\nlooked up MX for a.example"), std::string::npos);
  EXPECT_NE(debug.body.find("Metrics that would have been returned:"), std::string::npos);
}

TEST_F(ProbingExporter, ReloadDropsRemovedDomains) {
  start();
  ASSERT_TRUE(eventually([&] { return exporter_->probes_completed() >= 2; }));
  write_config("defaults: {interval: 1h, timeout: 5s}\ndomains: [a.example]\n");
  EXPECT_EQ(http_post(exporter_->port(), "/-/reload", "", "text/plain").status, 200);
  const auto m = metrics();
  EXPECT_EQ(m.find("domain=\"b.example\""), std::string::npos);
  EXPECT_NE(m.find("domain=\"a.example\""), std::string::npos);
}

// metrics.profile switched by a reload: from the next probe of each domain on, its series are
// those of the new profile, with nothing left over from the old one.
TEST_F(ProbingExporter, ReloadSwitchesTheMetricsProfile) {
  const std::string domains = "defaults: {interval: 1s, timeout: 1s}\ndomains: [a.example]\n";
  write_config(domains);
  start();
  auto probes_after_reload = [&](const std::string& config) {
    write_config(config);
    EXPECT_EQ(http_post(exporter_->port(), "/-/reload", "", "text/plain").status, 200);
    // two more: the first may have started under the old profile
    const long seen = exporter_->probes_completed();
    EXPECT_TRUE(eventually([&] { return exporter_->probes_completed() >= seen + 2; }));
    return metrics();
  };
  const std::string histogram = "mailtls_starttls_handshake_seconds_bucket{domain=\"a.example\"";
  const std::string zero_state = "mailtls_dane_status{domain=\"a.example\",status=\"bogus\"} 0";
  const std::string valid = "mailtls_dane_status{domain=\"a.example\",status=\"valid\"} 1";
  const std::string detail = "mailtls_tls_info{domain=\"a.example\"";
  const std::string expiry = "mailtls_cert_not_after_timestamp_seconds{domain=\"a.example\"";
  ASSERT_TRUE(eventually([&] { return exporter_->probes_completed() >= 1; }));
  auto m = metrics();
  for (const auto& s : {histogram, zero_state, valid, detail, expiry}) EXPECT_NE(m.find(s), std::string::npos) << s;

  m = probes_after_reload("metrics: {profile: lean}\n" + domains);
  for (const auto& s : {histogram, zero_state, detail}) EXPECT_EQ(m.find(s), std::string::npos) << s << "\n" << m;
  for (const auto& s : {valid, expiry}) EXPECT_NE(m.find(s), std::string::npos) << s;
  EXPECT_EQ(m.find("# HELP mailtls_starttls_handshake_seconds"), std::string::npos) << m;

  m = probes_after_reload(domains);
  for (const auto& s : {histogram, zero_state, valid, detail, expiry}) EXPECT_NE(m.find(s), std::string::npos) << s;
}

// A probe cut off by its timeout must not publish its partial verdicts (a slow MX is not
// "DANE bogus"): probe_success drops to 0 and the last complete results stay.
TEST_F(ProbingExporter, IncompleteProbeKeepsTheLastCompleteVerdicts) {
  write_config("defaults: {interval: 1s, timeout: 1s}\ndomains: [a.example]\n");
  std::atomic<int> calls{0};
  script_ = [&calls](const DomainConfig& d) {
    auto r = sample_report(d.name);
    if (++calls > 1) {
      r.probe_success = false;
      r.probe_error = "the probe did not finish within its timeout";
      r.dane_status = dane::DaneStatus::kBogus;
      r.mx.clear();
    }
    return r;
  };
  start();
  ASSERT_TRUE(eventually([&] { return exporter_->probes_completed() >= 2; }));
  const auto m = metrics();
  EXPECT_NE(m.find("mailtls_probe_success{domain=\"a.example\"} 0"), std::string::npos) << m;
  EXPECT_NE(m.find("mailtls_dane_status{domain=\"a.example\",status=\"valid\"} 1"), std::string::npos);
  EXPECT_NE(m.find("mailtls_dane_status{domain=\"a.example\",status=\"bogus\"} 0"), std::string::npos);
  EXPECT_NE(m.find("mailtls_dane_match{domain=\"a.example\""), std::string::npos);
}

// A resolver that answers but does not validate (a wrong trust anchor) turns every domain
// "bogus"/"broken": that must not reach /metrics. The probe has no verdict (probe_success 0,
// the reason in mailtls_probe_no_verdict) and the last trustworthy verdicts stay, so no
// domain alert fires; the resolver alert is the page.
TEST_F(ProbingExporter, ResolverNotValidatingKeepsTheLastVerdictsAndSaysWhy) {
  write_config("defaults: {interval: 1s, timeout: 1s}\ndomains: [a.example]\n");
  std::atomic<int> calls{0};
  script_ = [&calls](const DomainConfig& d) {
    auto r = sample_report(d.name);
    if (++calls > 1) {
      r.dane_status = dane::DaneStatus::kBogus;
      r.mtasts.status = mtasts::MtaStsStatus::kBroken;
      for (auto& s : r.rrsets) s.security = dns::Security::kBogus;
      mailtls::testing::FakeResolver resolver;
      domain::judge_resolver_faults(
          r, resolver, "signed.test",
          {domain::ResolverValidation::kNotValidating, "signed.test A: bogus"},
          Deadline::after(std::chrono::seconds(1)));
    }
    return r;
  };
  start();
  ASSERT_TRUE(eventually([&] { return exporter_->probes_completed() >= 2; }));
  const auto m = metrics();
  EXPECT_NE(m.find("mailtls_probe_success{domain=\"a.example\"} 0"), std::string::npos) << m;
  EXPECT_NE(
      m.find("mailtls_probe_no_verdict{domain=\"a.example\",reason=\"resolver_not_validating\"} 1"),
      std::string::npos)
      << m;
  EXPECT_NE(m.find("mailtls_dane_status{domain=\"a.example\",status=\"valid\"} 1"),
            std::string::npos)
      << m;
  EXPECT_NE(m.find("mailtls_dane_status{domain=\"a.example\",status=\"bogus\"} 0"),
            std::string::npos);
  EXPECT_NE(m.find("mailtls_mtasts_status{domain=\"a.example\",status=\"enforced\"} 1"),
            std::string::npos);
  EXPECT_NE(m.find("mailtls_mtasts_status{domain=\"a.example\",status=\"broken\"} 0"),
            std::string::npos);
  EXPECT_EQ(m.find("mailtls_dnssec_bogus{domain=\"a.example\",name=\"a.example\",type=\"MX\"} 1"),
            std::string::npos)
      << m;
}

TEST_F(ProbingExporter, TlsaFirstSeenSurvivesRestart) {
  start();
  ASSERT_TRUE(eventually([&] { return exporter_->probes_completed() >= 2; }));
  auto first_seen = [&] {
    const auto m = metrics();
    const std::string key = "mailtls_dane_tlsa_rrset_first_seen_timestamp_seconds{domain=\"a.example\",mx=\"mx.a.example\"} ";
    auto pos = m.find(key);
    return pos == std::string::npos ? std::string() : m.substr(pos + key.size(), m.find('\n', pos) - pos - key.size());
  };
  const std::string before = first_seen();
  ASSERT_FALSE(before.empty());
  stop();
  std::this_thread::sleep_for(std::chrono::milliseconds(1100));
  start();
  ASSERT_TRUE(eventually([&] { return exporter_->probes_completed() >= 2; }));
  EXPECT_EQ(first_seen(), before);
}

}  // namespace
}  // namespace mailtls::exporter
