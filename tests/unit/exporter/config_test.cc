#include "exporter/config/config.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

namespace mailtls::exporter {
namespace {

const std::string kTestdata = std::string(MAILTLS_SOURCE_DIR) + "/tests/unit/exporter/testdata";

TEST(Config, ExampleConfigLoads) {
  auto r = load_config_file(std::string(MAILTLS_SOURCE_DIR) + "/examples/config.yaml");
  ASSERT_TRUE(r) << r.error();
  const Config& c = *r;
  EXPECT_EQ(c.interval, std::chrono::minutes(5));
  EXPECT_EQ(c.timeout, std::chrono::seconds(30));
  EXPECT_EQ(c.concurrency, 32);
  ASSERT_EQ(c.domains.size(), 2u);
  EXPECT_EQ(c.domains[0].name, "example.com");
  EXPECT_EQ(c.domains[0].interval, std::chrono::minutes(5));
  EXPECT_EQ(c.domains[1].name, "example.org");
  EXPECT_EQ(c.domains[1].interval, std::chrono::minutes(10));
  EXPECT_EQ(c.domains[1].timeout, std::chrono::seconds(45));
  EXPECT_EQ(c.resolver.root_trust_anchor_file, "/usr/share/dns/root.key");
  EXPECT_FALSE(c.tlsrpt_receiver.enabled);
  EXPECT_EQ(c.metrics.profile, MetricsProfile::kFull);
  EXPECT_EQ(c.smtp.key_type_recheck_interval, std::chrono::hours(1));
}

TEST(Config, KeyTypeRecheckInterval) {
  EXPECT_EQ(load_config_text("", "empty.yml")->smtp.key_type_recheck_interval, std::chrono::hours(1));
  for (const std::string zero : {"0", "0s"}) {
    auto r = load_config_text("smtp:\n  key_type_recheck_interval: " + zero + "\n", "zero.yml");
    ASSERT_TRUE(r) << r.error();
    EXPECT_EQ(r->smtp.key_type_recheck_interval, std::chrono::milliseconds(0)) << zero;
  }
  auto r = load_config_text("smtp:\n  key_type_recheck_interval: 15m\n", "15m.yml");
  ASSERT_TRUE(r) << r.error();
  EXPECT_EQ(r->smtp.key_type_recheck_interval, std::chrono::minutes(15));
  auto bad = load_config_text("smtp:\n  key_type_recheck_interval: -1h\n", "bad.yml");
  ASSERT_FALSE(bad);
  EXPECT_NE(bad.error().find("smtp.key_type_recheck_interval"), std::string::npos) << bad.error();
}

TEST(Config, MetricsProfile) {
  EXPECT_EQ(load_config_text("", "empty.yml")->metrics.profile, MetricsProfile::kFull);
  auto lean = load_config_text("metrics:\n  profile: lean\n", "lean.yml");
  ASSERT_TRUE(lean) << lean.error();
  EXPECT_EQ(lean->metrics.profile, MetricsProfile::kLean);
  auto full = load_config_text("metrics:\n  profile: full\n", "full.yml");
  ASSERT_TRUE(full) << full.error();
  EXPECT_EQ(full->metrics.profile, MetricsProfile::kFull);
  // a bad value: testdata/invalid-metrics-profile.yml
  auto unknown = load_config_text("metrics:\n  families: []\n", "unknown.yml");
  ASSERT_FALSE(unknown);
  EXPECT_NE(unknown.error().find("unknown key"), std::string::npos) << unknown.error();
}

TEST(Config, EmptyFileIsValid) {
  auto r = load_config_text("", "empty.yml");
  ASSERT_TRUE(r) << r.error();
  EXPECT_TRUE(r->domains.empty());
}

TEST(Config, FullResolverSection) {
  auto r = load_config_text(R"(
resolver:
  use_resolv_conf: false
  forwarders: ["127.0.0.1@5300", "::1"]
  root_trust_anchor_file: ""
  trust_anchors: ["example.test. DS 1 13 2 AA"]
  stub_zones:
    - zone: Example.Test.
      addresses: ["127.0.0.1@5300"]
  self_test_secure_name: signed.test
  lookup_timeout: 3s
domains:
  - name: Example.COM.
    checks: [dane]
)", "inline.yml");
  ASSERT_TRUE(r) << r.error();
  const auto& rc = r->resolver;
  EXPECT_FALSE(rc.use_resolv_conf);
  EXPECT_EQ(rc.forwarders.size(), 2u);
  EXPECT_EQ(rc.root_trust_anchor_file, "");
  ASSERT_EQ(rc.stub_zones.size(), 1u);
  EXPECT_EQ(rc.stub_zones[0].zone, "example.test");
  EXPECT_EQ(rc.self_test_secure_name, "signed.test");
  EXPECT_EQ(rc.lookup_timeout_ms, 3000);
  ASSERT_EQ(r->domains.size(), 1u);
  EXPECT_EQ(r->domains[0].name, "example.com");
  EXPECT_TRUE(r->domains[0].check_dane);
  EXPECT_FALSE(r->domains[0].check_mtasts);
  EXPECT_FALSE(r->domains[0].check_tlsrpt);
}

TEST(Config, DomainFilesAreRelativeToTheConfig) {
  auto r = load_config_text("domains: [main.example]\ndomain_files: [domains-extra.yml]\n",
                            kTestdata + "/inline.yml");
  ASSERT_TRUE(r) << r.error();
  ASSERT_EQ(r->domains.size(), 3u);
  EXPECT_EQ(r->domains[1].name, "a.example");
  EXPECT_EQ(r->domains[2].interval, std::chrono::hours(1));
  EXPECT_NE(r->domains[2].defined_at.find("domains-extra.yml:3"), std::string::npos);
}

TEST(Config, MissingFile) {
  auto r = load_config_file("/nonexistent/config.yml");
  EXPECT_FALSE(r);
  EXPECT_NE(r.error().find("/nonexistent/config.yml: cannot read"), std::string::npos) << r.error();
}

// Each testdata/invalid-*.yml starts with "# want: <text>"; the error must name the file and
// contain that text.
TEST(Config, InvalidFilesGiveOneClearError) {
  int checked = 0;
  for (const auto& e : std::filesystem::directory_iterator(kTestdata)) {
    const std::string name = e.path().filename().string();
    if (name.rfind("invalid-", 0) != 0) continue;
    std::ifstream in(e.path());
    std::string first;
    std::getline(in, first);
    ASSERT_EQ(first.rfind("# want: ", 0), 0u) << name;
    const std::string want = first.substr(8);
    auto r = load_config_file(e.path().string());
    EXPECT_FALSE(r) << name;
    EXPECT_EQ(r.error().rfind(e.path().string(), 0), 0u) << name << ": " << r.error();
    EXPECT_NE(r.error().find(want), std::string::npos) << name << ": got " << r.error();
    EXPECT_EQ(r.error().find('\n'), std::string::npos) << name << ": not one line";
    ++checked;
  }
  EXPECT_GE(checked, 15);
}

TEST(Config, Durations) {
  EXPECT_EQ(parse_duration("30s"), std::chrono::seconds(30));
  EXPECT_EQ(parse_duration("1h30m"), std::chrono::minutes(90));
  EXPECT_EQ(parse_duration("500ms"), std::chrono::milliseconds(500));
  EXPECT_EQ(parse_duration("2d"), std::chrono::hours(48));
  EXPECT_EQ(parse_duration("1w"), std::chrono::hours(168));
  EXPECT_FALSE(parse_duration(""));
  EXPECT_FALSE(parse_duration("5"));
  EXPECT_FALSE(parse_duration("m"));
  EXPECT_FALSE(parse_duration("5 m"));
  EXPECT_FALSE(parse_duration("-5m"));
  EXPECT_FALSE(parse_duration("5x"));
  EXPECT_FALSE(parse_duration("99999999999999999999s"));
}

TEST(Config, DomainNames) {
  EXPECT_EQ(normalize_domain_name("Mail.Example.COM."), "mail.example.com");
  EXPECT_EQ(normalize_domain_name("xn--bcher-kva.example"), "xn--bcher-kva.example");
  EXPECT_FALSE(normalize_domain_name("a..b"));
  EXPECT_FALSE(normalize_domain_name("-a.b"));
  EXPECT_FALSE(normalize_domain_name("a-.b"));
  EXPECT_FALSE(normalize_domain_name(std::string(64, 'a') + ".com"));
  EXPECT_TRUE(normalize_domain_name(std::string(63, 'a') + ".com"));
  EXPECT_FALSE(normalize_domain_name(""));
  EXPECT_FALSE(normalize_domain_name("."));
}

}  // namespace
}  // namespace mailtls::exporter
