// The exporter's probe of every world domain, with the real resolver, SMTP client and HTTPS
// fetcher, checked against tests/world/SCENARIOS.md: verdicts and exact metric values; F1 and
// F6 through the mutations, with history kept in a state file across a restart.

#include <gtest/gtest.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <thread>

#include "exporter/cli/check_report.h"
#include "exporter/config/config.h"
#include "exporter/runtime/judged_probe.h"
#include "exporter/exposition/domain_metrics.h"
#include "exporter/exposition/metrics_text.h"
#include "exporter/runtime/real_domain_prober.h"
#include "exporter/runtime/state_store.h"

namespace mailtls::exporter {
namespace {

namespace fs = std::filesystem;

fs::path world_dir() {
  const char* env = std::getenv("MAILTLS_WORLD_DIR");
  return env ? fs::path(env) : fs::path(MAILTLS_SOURCE_DIR) / ".world";
}

std::map<std::string, std::string> read_env(const fs::path& file) {
  std::map<std::string, std::string> out;
  std::ifstream in(file);
  for (std::string line; std::getline(in, line);) {
    auto eq = line.find('=');
    if (eq != std::string::npos) out[line.substr(0, eq)] = line.substr(eq + 1);
  }
  return out;
}

int world(const std::string& args) {
  return std::system((std::string(MAILTLS_SOURCE_DIR) + "/tests/world/world.sh " + args + " >/dev/null 2>&1").c_str());
}

class WorldProbe : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    const auto cfg = world_dir() / "exporter.yaml";
    ASSERT_TRUE(fs::exists(cfg)) << cfg << " is missing: start the world with tests/world/world.sh start";
    auto loaded = load_config_file(cfg.string());
    ASSERT_TRUE(loaded) << loaded.error();
    config_ = new Config(*loaded);
    std::string error;
    prober_ = make_real_domain_prober(*config_, &error);
    ASSERT_TRUE(prober_) << error;
    ASSERT_EQ(prober_->resolver_validating(), true) << "the world's trust anchors do not validate";
  }
  static void TearDownTestSuite() {
    delete config_;
    config_ = nullptr;
  }

  // Observed and judged as the scheduler does, with the history in `state` (none: no history).
  static domain::DomainReport probe(const std::string& name, StateStore* state = nullptr) {
    for (const auto& d : config_->domains) {
      if (d.name == name) return probe_and_judge(*prober_, d, state, HistoryUse::kCommit);
    }
    ADD_FAILURE() << name << " is not in the world's exporter.yaml";
    return {};
  }
  static std::string metrics(const domain::DomainReport& r) { return render_metrics_families(domain_metrics(r)); }
  static std::string spki(const std::string& key) { return read_env(world_dir() / "tlsa.env")[key]; }

  static inline Config* config_ = nullptr;
  static inline std::shared_ptr<DomainProber> prober_;
};

bool has(const std::string& text, const std::string& line) {
  return text.find(line + "\n") != std::string::npos;
}

struct Expected {
  const char* domain;
  const char* dane_status;
  const char* mtasts_status;
  bool tlsrpt_valid;
};

// SCENARIOS.md, column "expected".
const Expected kScenarios[] = {
    {"signed.test", "not_deployed", "not_deployed", true},
    {"insecure.test", "not_deployed", "not_deployed", false},
    {"bogus.test", "bogus", "broken", false},
    {"expiring.test", "valid", "not_deployed", true},
    {"cname-mx.test", "valid", "not_deployed", true},
    {"cname-insecure.test", "valid", "not_deployed", true},
    {"nomx.test", "valid", "not_deployed", true},
    {"dane-good.test", "valid", "not_deployed", true},
    {"dane-stalekey.test", "broken", "not_deployed", true},
    {"dane-leftovers.test", "valid", "not_deployed", true},
    {"dane-ta.test", "valid", "not_deployed", true},
    {"dane-rollover.test", "valid", "not_deployed", true},
    {"dane-degraded.test", "degraded", "not_deployed", true},
    {"dane-expired.test", "valid", "not_deployed", true},
    {"dane-nostarttls.test", "broken", "not_deployed", true},
    {"dane-v6.test", "degraded", "not_deployed", true},
    {"dane-dualcert.test", "degraded", "not_deployed", true},
    {"sts-enforce.test", "not_deployed", "enforced", true},
    {"sts-testing.test", "not_deployed", "testing", true},
    {"sts-changed.test", "not_deployed", "enforced", true},
    {"sts-redirect.test", "not_deployed", "broken", true},
    {"sts-html.test", "not_deployed", "broken", true},
    {"sts-huge.test", "not_deployed", "broken", true},
    {"sts-expired.test", "not_deployed", "broken", true},
    {"sts-mxmiss.test", "not_deployed", "degraded", true},
    {"sts-twotxt.test", "not_deployed", "invalid", true},
    {"tlsrpt-bad.test", "not_deployed", "not_deployed", false},
    {"tlsrpt-http.test", "not_deployed", "not_deployed", false},
};

TEST_F(WorldProbe, EveryScenarioHasItsVerdicts) {
  for (const auto& e : kScenarios) {
    const auto r = probe(e.domain);
    EXPECT_TRUE(r.probe_success) << e.domain << ": " << r.probe_error;
    EXPECT_EQ(domain::to_string(r.dane_status), e.dane_status) << e.domain;
    EXPECT_EQ(domain::to_string(r.mtasts.status), e.mtasts_status) << e.domain;
    EXPECT_EQ(r.tlsrpt.valid, e.tlsrpt_valid) << e.domain;
    const auto m = metrics(r);
    EXPECT_TRUE(has(m, "mailtls_dane_status{domain=\"" + std::string(e.domain) + "\",status=\"" + e.dane_status + "\"} 1")) << e.domain;
    EXPECT_TRUE(has(m, "mailtls_mtasts_status{domain=\"" + std::string(e.domain) + "\",status=\"" + e.mtasts_status + "\"} 1")) << e.domain;
  }
}

TEST_F(WorldProbe, GoodDaneExactMetrics) {
  const auto m = metrics(probe("dane-good.test"));
  const std::string mx = "domain=\"dane-good.test\",mx=\"mx.dane-good.test\"";
  const std::string at = mx + ",address=\"127.0.1.1\"";
  EXPECT_TRUE(has(m, "mailtls_mx_info{" + mx + ",preference=\"10\"} 1")) << m;
  EXPECT_TRUE(has(m, "mailtls_dnssec_secure{domain=\"dane-good.test\",name=\"_25._tcp.mx.dane-good.test\",type=\"TLSA\"} 1"));
  EXPECT_TRUE(has(m, "mailtls_dnssec_bogus{domain=\"dane-good.test\",name=\"dane-good.test\",type=\"MX\"} 0"));
  EXPECT_TRUE(has(m, "mailtls_dane_tlsa_records{" + mx + "} 1"));
  EXPECT_TRUE(has(m, "mailtls_dane_tlsa_usable_records{" + mx + "} 1"));
  EXPECT_TRUE(has(m, "mailtls_dane_tlsa_record_match{" + at + ",usage=\"3\",selector=\"1\",matching_type=\"1\",data=\"" + spki("SPKI_GOOD") + "\"} 1"));
  EXPECT_TRUE(has(m, "mailtls_dane_match{" + at + "} 1"));
  EXPECT_TRUE(has(m, "mailtls_dane_rollover_ready{" + mx + "} 0"));
  EXPECT_TRUE(has(m, "mailtls_smtp_connect_success{" + at + "} 1"));
  EXPECT_TRUE(has(m, "mailtls_smtp_starttls_offered{" + at + "} 1"));
  EXPECT_TRUE(has(m, "mailtls_smtp_starttls_success{" + at + "} 1"));
  EXPECT_TRUE(has(m, "mailtls_cert_pkix_valid{" + at + "} 1"));
  EXPECT_NE(m.find("mailtls_cert_info{" + at + ",subject=\"CN=mx.dane-good.test\""), std::string::npos);
  EXPECT_NE(m.find("spki_sha256=\"" + spki("SPKI_GOOD") + "\"} 1"), std::string::npos);
  for (const char* phase : {"connect", "banner", "ehlo", "starttls", "tls_handshake"}) {
    EXPECT_NE(m.find("mailtls_smtp_phase_duration_seconds{" + at + ",phase=\"" + phase + "\"}"), std::string::npos) << phase;
  }
  EXPECT_TRUE(has(m, "mailtls_tlsrpt_record_valid{domain=\"dane-good.test\"} 1"));
  EXPECT_TRUE(has(m, "mailtls_tlsrpt_rua_info{domain=\"dane-good.test\",uri=\"mailto:tlsrpt@dane-good.test\"} 1"));
  EXPECT_TRUE(has(m, "mailtls_mtasts_txt_valid{domain=\"dane-good.test\"} 0"));
}

TEST_F(WorldProbe, StaleKeyLeftoversAndRollover) {
  const auto stale = metrics(probe("dane-stalekey.test"));
  const std::string s_at = "domain=\"dane-stalekey.test\",mx=\"mx.dane-stalekey.test\",address=\"127.0.1.2\"";
  EXPECT_TRUE(has(stale, "mailtls_dane_match{" + s_at + "} 0"));
  EXPECT_TRUE(has(stale, "mailtls_dane_tlsa_record_match{" + s_at + ",usage=\"3\",selector=\"1\",matching_type=\"1\",data=\"" + spki("SPKI_STALE_OLD") + "\"} 0"));
  EXPECT_TRUE(has(stale, "mailtls_cert_pkix_valid{" + s_at + "} 1")) << "certificate metrics stay visible when DANE fails";

  const auto left = metrics(probe("dane-leftovers.test"));
  const std::string l_mx = "domain=\"dane-leftovers.test\",mx=\"mx.dane-leftovers.test\"";
  const std::string l_at = l_mx + ",address=\"127.0.1.3\"";
  EXPECT_TRUE(has(left, "mailtls_dane_tlsa_records{" + l_mx + "} 3"));
  EXPECT_TRUE(has(left, "mailtls_dane_tlsa_usable_records{" + l_mx + "} 3"));
  for (const auto& [key, want] : std::map<std::string, int>{{"SPKI_LEFT_OLD1", 0}, {"SPKI_LEFT_CUR", 1}, {"SPKI_LEFT_OLD2", 0}}) {
    EXPECT_TRUE(has(left, "mailtls_dane_tlsa_record_match{" + l_at + ",usage=\"3\",selector=\"1\",matching_type=\"1\",data=\"" + spki(key) + "\"} " + std::to_string(want))) << key;
  }
  EXPECT_TRUE(has(metrics(probe("dane-rollover.test")), "mailtls_dane_rollover_ready{domain=\"dane-rollover.test\",mx=\"mx.dane-rollover.test\"} 1"));
  EXPECT_TRUE(has(metrics(probe("dane-ta.test")), "mailtls_dane_rollover_ready{domain=\"dane-ta.test\",mx=\"mx.dane-ta.test\"} 1"));
}

TEST_F(WorldProbe, PerAddressAndPerFamily) {
  const auto v6 = metrics(probe("dane-v6.test"));
  const std::string mx = "domain=\"dane-v6.test\",mx=\"mx.dane-v6.test\"";
  EXPECT_TRUE(has(v6, "mailtls_dane_match{" + mx + ",address=\"127.0.1.10\"} 1"));
  EXPECT_TRUE(has(v6, "mailtls_dane_match{" + mx + ",address=\"::1\"} 0"));
  const auto deg = metrics(probe("dane-degraded.test"));
  EXPECT_TRUE(has(deg, "mailtls_dane_match{domain=\"dane-degraded.test\",mx=\"mx1.dane-degraded.test\",address=\"127.0.1.6\"} 1"));
  EXPECT_TRUE(has(deg, "mailtls_dane_match{domain=\"dane-degraded.test\",mx=\"mx2.dane-degraded.test\",address=\"127.0.1.7\"} 0"));
  const auto plain = metrics(probe("dane-nostarttls.test"));
  const std::string p_at = "domain=\"dane-nostarttls.test\",mx=\"mx.dane-nostarttls.test\",address=\"127.0.1.9\"";
  EXPECT_TRUE(has(plain, "mailtls_smtp_connect_success{" + p_at + "} 1"));
  EXPECT_TRUE(has(plain, "mailtls_smtp_starttls_offered{" + p_at + "} 0"));
  EXPECT_TRUE(has(plain, "mailtls_dane_match{" + p_at + "} 0"));
  const auto expired = metrics(probe("dane-expired.test"));
  const std::string e_at = "domain=\"dane-expired.test\",mx=\"mx.dane-expired.test\",address=\"127.0.1.8\"";
  EXPECT_TRUE(has(expired, "mailtls_dane_match{" + e_at + "} 1")) << "DANE-EE ignores expiry";
  EXPECT_TRUE(has(expired, "mailtls_cert_pkix_valid{" + e_at + "} 0"));
}

// T14: the dual-certificate Postfix at 127.0.1.14 with TLSA for its ECDSA key only.
TEST_F(WorldProbe, EveryKeyTypeIsMatched) {
  const auto dual = probe("dane-dualcert.test");
  const auto m = metrics(dual);
  const std::string at = "domain=\"dane-dualcert.test\",mx=\"mx.dane-dualcert.test\",address=\"127.0.1.14\"";
  EXPECT_TRUE(has(m, "mailtls_dane_key_type_match{" + at + ",key_type=\"ecdsa\"} 1")) << m;
  EXPECT_TRUE(has(m, "mailtls_dane_key_type_match{" + at + ",key_type=\"rsa\"} 0"));
  EXPECT_TRUE(has(m, "mailtls_dane_match{" + at + "} 0"));
  ASSERT_EQ(dual.mx.size(), 1u);
  ASSERT_EQ(dual.mx[0].addresses.size(), 1u);
  const auto& a = dual.mx[0].addresses[0];
  EXPECT_EQ(a.key_type, "ecdsa");
  EXPECT_EQ(a.other_key_type_offer, "offered");
  ASSERT_EQ(a.key_types.size(), 2u);
  EXPECT_EQ(a.key_types[1].key_type, "rsa");
  EXPECT_EQ(a.key_types[1].spki_sha256, spki("SPKI_DUAL_RSA"));
  EXPECT_EQ(a.key_types[1].dane_result_type, "tlsa-invalid");
  // The TLSA record is for the ECDSA key, which is presented: not stale.
  EXPECT_TRUE(has(m, "mailtls_dane_tlsa_record_match{" + at + ",usage=\"3\",selector=\"1\",matching_type=\"1\",data=\"" + spki("SPKI_DUAL_EC") + "\"} 1"));

  // A one-certificate server: the other key type is not offered, which is no failure.
  const auto good = probe("dane-good.test");
  ASSERT_EQ(good.mx.size(), 1u);
  ASSERT_EQ(good.mx[0].addresses.size(), 1u);
  EXPECT_EQ(good.mx[0].addresses[0].other_key_type_offer, "not_offered");
  EXPECT_EQ(good.mx[0].addresses[0].key_types.size(), 1u);
  EXPECT_EQ(domain::to_string(good.dane_status), "valid");
  EXPECT_TRUE(has(metrics(good), "mailtls_dane_key_type_match{domain=\"dane-good.test\",mx=\"mx.dane-good.test\",address=\"127.0.1.1\",key_type=\"ecdsa\"} 1"));
}

TEST_F(WorldProbe, DnssecStates) {
  const auto bogus = probe("bogus.test");
  EXPECT_TRUE(has(metrics(bogus), "mailtls_dnssec_bogus{domain=\"bogus.test\",name=\"bogus.test\",type=\"MX\"} 1"));
  const auto insecure = metrics(probe("insecure.test"));
  EXPECT_TRUE(has(insecure, "mailtls_dnssec_secure{domain=\"insecure.test\",name=\"insecure.test\",type=\"MX\"} 0"));
  EXPECT_TRUE(has(insecure, "mailtls_dnssec_bogus{domain=\"insecure.test\",name=\"insecure.test\",type=\"MX\"} 0"));
  const auto expiring = probe("expiring.test");
  bool near = false;
  for (const auto& rr : expiring.rrsets) {
    if (rr.rrsig_expiry && *rr.rrsig_expiry < std::chrono::system_clock::now() + std::chrono::hours(24)) near = true;
  }
  EXPECT_TRUE(near) << "expiring.test signatures should expire within a day";
  const auto cname = probe("cname-insecure.test");
  ASSERT_EQ(cname.mx.size(), 1u);
  EXPECT_EQ(cname.mx[0].tlsa_base_domain, "mail.cname-insecure.test");
  const auto nomx = probe("nomx.test");
  ASSERT_EQ(nomx.mx.size(), 1u);
  EXPECT_TRUE(nomx.mx[0].implicit);
}

TEST_F(WorldProbe, MtaStsDetails) {
  const auto miss = metrics(probe("sts-mxmiss.test"));
  EXPECT_TRUE(has(miss, "mailtls_mtasts_mx_covered{domain=\"sts-mxmiss.test\",mx=\"mx1.sts-mxmiss.test\"} 1"));
  EXPECT_TRUE(has(miss, "mailtls_mtasts_mx_covered{domain=\"sts-mxmiss.test\",mx=\"mx2.sts-mxmiss.test\"} 0"));
  const auto good = metrics(probe("sts-enforce.test"));
  EXPECT_TRUE(has(good, "mailtls_mtasts_policy_info{domain=\"sts-enforce.test\",id=\"20261101T000000\",mode=\"enforce\"} 1"));
  EXPECT_TRUE(has(good, "mailtls_mtasts_policy_max_age_seconds{domain=\"sts-enforce.test\"} 86400"));
  EXPECT_NE(good.find("mailtls_mtasts_policy_cert_not_after_timestamp_seconds{domain=\"sts-enforce.test\"}"), std::string::npos);
  for (const char* d : {"sts-redirect.test", "sts-html.test", "sts-huge.test", "sts-expired.test"}) {
    EXPECT_TRUE(has(metrics(probe(d)), "mailtls_mtasts_policy_fetch_success{domain=\"" + std::string(d) + "\"} 0")) << d;
  }
  const auto expired = probe("sts-expired.test");
  ASSERT_TRUE(expired.mtasts.policy_cert_not_after);
  EXPECT_LT(*expired.mtasts.policy_cert_not_after, std::chrono::system_clock::now());
  EXPECT_EQ(expired.mtasts.fetch_result_type, "sts-webpki-invalid");
}

// F1: the certificate is renewed with a new key and the TLSA record is not updated.
TEST_F(WorldProbe, KeyRotationWithoutTlsaUpdateIsF1) {
  auto state = StateStore::in_memory();
  auto before = probe("dane-good.test", &state);
  ASSERT_EQ(domain::to_string(before.dane_status), "valid");
  std::this_thread::sleep_for(std::chrono::milliseconds(2100));  // notBefore has 1 s resolution
  ASSERT_EQ(world("mutate rotate-key"), 0);
  auto after = probe("dane-good.test", &state);
  ASSERT_EQ(world("restore rotate-key"), 0);
  EXPECT_EQ(domain::to_string(after.dane_status), "broken");
  ASSERT_EQ(after.mx.size(), 1u);
  EXPECT_TRUE(after.mx[0].renewed_without_tlsa_update);
  EXPECT_EQ(after.mx[0].addresses[0].dane_result_type, "tlsa-invalid");
  EXPECT_EQ(after.mx[0].addresses[0].leaf->spki_sha256, spki("SPKI_GOOD_ROTATED"));
  const auto m = metrics(after);
  EXPECT_TRUE(has(m, "mailtls_dane_status{domain=\"dane-good.test\",status=\"broken\"} 1"));
  // The cert's notBefore is later than the RRset's first-seen time: what the F1 alert compares.
  EXPECT_GT(after.mx[0].addresses[0].leaf->not_before, *after.mx[0].tlsa_rrset_first_seen);
  EXPECT_EQ(domain::to_string(probe("dane-good.test").dane_status), "valid");  // restored
}

// F6: the policy content changes under the same id; the history survives a restart.
TEST_F(WorldProbe, PolicyChangedWithoutIdChangeSurvivesRestart) {
  const auto dir = fs::path(::testing::TempDir()) / ("exporter_world_f6_" + std::to_string(getpid()));
  fs::remove_all(dir);
  std::string warning, err;
  {
    auto state = StateStore::open(dir.string(), &warning);
    auto r = probe("sts-changed.test", &state);
    EXPECT_FALSE(r.mtasts.changed_without_id_change);
    ASSERT_TRUE(state.save(&err)) << err;
  }
  ASSERT_EQ(world("mutate sts-content"), 0);
  auto state = StateStore::open(dir.string(), &warning);  // a restarted exporter
  EXPECT_TRUE(warning.empty()) << warning;
  auto r = probe("sts-changed.test", &state);
  ASSERT_EQ(world("restore sts-content"), 0);
  EXPECT_TRUE(r.mtasts.changed_without_id_change);
  EXPECT_TRUE(has(metrics(r), "mailtls_mtasts_policy_changed_without_id_change{domain=\"sts-changed.test\"} 1"));
}

// Issue 16: the exporter's resolver answers but does not validate (here: every trust anchor of
// the world with a wrong digest, so every answer is bogus and the self-test fails). The probe
// must give no verdict, not DANE "bogus" / MTA-STS "broken", and `check` must exit 2 with the
// resolver's state at the top of its JSON.
TEST_F(WorldProbe, WrongTrustAnchorGivesNoVerdictNotBogus) {
  const fs::path wrong =
      fs::path(::testing::TempDir()) / ("wrong-anchors-" + std::to_string(getpid()) + ".ds");
  {
    std::ifstream in(world_dir() / "anchors.ds");
    std::ofstream out(wrong);
    for (std::string line; std::getline(in, line);) {
      const auto digest = line.find_last_of(' ');  // owner DS tag algorithm type digest
      if (digest != std::string::npos)
        out << line.substr(0, digest + 1) << std::string(64, '0') << "\n";
    }
  }
  Config c = *config_;
  c.resolver.trust_anchor_files = {wrong.string()};
  std::string error;
  auto prober = make_real_domain_prober(c, &error);
  ASSERT_TRUE(prober) << error;
  const auto self_test = prober->resolver_self_test();
  ASSERT_EQ(self_test.validation, domain::ResolverValidation::kNotValidating) << self_test.reason;
  EXPECT_NE(self_test.reason.find("bogus"), std::string::npos) << self_test.reason;

  DomainConfig d;
  for (const auto& x : c.domains) {
    if (x.name == "sts-enforce.test") d = x;
  }
  ASSERT_EQ(d.name, "sts-enforce.test");
  const auto r = probe_and_judge(*prober, d, nullptr, HistoryUse::kReadOnly);
  EXPECT_EQ(r.no_verdict, domain::NoVerdictReason::kResolverNotValidating);
  EXPECT_FALSE(r.probe_success);
  EXPECT_EQ(domain::to_string(r.dane_status), "not checked: resolver not validating");
  EXPECT_EQ(domain::to_string(r.mtasts.status), "not checked: resolver not validating");
  ASSERT_FALSE(r.rrsets.empty());
  for (const auto& s : r.rrsets) {
    EXPECT_EQ(s.security, dns::Security::kIndeterminate) << s.name << " " << s.type;
    EXPECT_NE(s.reason.find("the resolver said bogus"), std::string::npos) << s.reason;
  }
  EXPECT_EQ(check_exit_code({r}), 2);
  const auto j = nlohmann::json::parse(format_check_json({r}, self_test));
  EXPECT_EQ(j["resolver"]["validating"], false);
  EXPECT_EQ(j["domains"][0]["no_verdict"], "resolver_not_validating");
  const auto m = metrics(r);
  EXPECT_TRUE(has(
      m,
      "mailtls_probe_no_verdict{domain=\"sts-enforce.test\",reason=\"resolver_not_validating\"} 1"))
      << m;
  EXPECT_FALSE(has(m, "mailtls_mtasts_status{domain=\"sts-enforce.test\",status=\"broken\"} 1"))
      << m;
  fs::remove(wrong);
}

}  // namespace
}  // namespace mailtls::exporter
