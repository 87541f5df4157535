// The DNS layer against the local test world (tests/world: Knot with signed, unsigned and
// broken zones on 127.0.0.1@5300). Every expectation is where the zone files put it.
#include <gtest/gtest.h>

#include <cstdlib>
#include <fstream>
#include <map>
#include <string>

#include "probes/base/hex.h"
#include "probes/dns/mx_resolution.h"
#include "probes/dns/resolver_self_test.h"
#include "probes/dns/tlsa_base_domain.h"
#include "probes/dns/unbound_resolver.h"

namespace mailtls::dns {
namespace {

using std::chrono::hours;
using std::chrono::seconds;

std::string world_dir() {
  const char* dir = std::getenv("MAILTLS_WORLD_DIR");
  return dir != nullptr && *dir != '\0' ? dir : MAILTLS_SOURCE_DIR "/.world";
}

// KEY=VALUE lines, as world.sh writes world.env and tlsa.env.
std::map<std::string, std::string> read_env_file(const std::string& path) {
  std::map<std::string, std::string> out;
  std::ifstream in(path);
  std::string line;
  while (std::getline(in, line)) {
    const auto eq = line.find('=');
    if (eq != std::string::npos) out[line.substr(0, eq)] = line.substr(eq + 1);
  }
  return out;
}

const char kHowToStart[] =
    "the test world is not running. Start it with `tests/world/world.sh start` (as root; run "
    "directory $MAILTLS_WORLD_DIR, default <repo>/.world), or run the tests through ctest -L "
    "world, whose fixture starts it.";

class DnsWorldTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    world_ = read_env_file(world_dir() + "/world.env");
    tlsa_ = read_env_file(world_dir() + "/tlsa.env");
    if (world_.empty() || world_["DNS_PORT"].empty()) {
      setup_error_ = std::string("no ") + world_dir() + "/world.env: " + kHowToStart;
      return;
    }
    config_.use_resolv_conf = false;
    config_.root_trust_anchor_file = "";
    config_.stub_zones.push_back({"test", {world_["DNS_ADDR"] + "@" + world_["DNS_PORT"]}});
    config_.trust_anchor_files = {world_["ANCHORS_FILE"]};
    config_.self_test_secure_name = "signed.test";
    config_.self_test_bogus_name = "bogus.test";
    config_.lookup_timeout_ms = 5000;
    auto made = UnboundResolver::create(config_);
    if (!made.resolver) {
      setup_error_ = "resolver from world.env failed: " + made.error;
      return;
    }
    resolver_ = made.resolver.release();
  }
  static void TearDownTestSuite() {
    delete resolver_;
    resolver_ = nullptr;
  }
  void SetUp() override {
    // Fail, never skip: a world test that silently passes without a world proves nothing.
    ASSERT_TRUE(setup_error_.empty()) << setup_error_;
    const Answer probe = resolver_->lookup("signed.test", RrType::kMx, deadline());
    ASSERT_FALSE(probe.reason == "timeout" || probe.rcode == 5 || probe.rcode == 2)
        << "Knot at " << world_["DNS_ADDR"] << "@" << world_["DNS_PORT"]
        << " does not answer (" << probe.reason << "): " << kHowToStart;
  }
  static Deadline deadline() { return Deadline::after(seconds(10)); }
  static std::vector<std::uint8_t> spki(const std::string& key) {
    EXPECT_FALSE(tlsa_[key].empty()) << key << " missing from tlsa.env";
    auto bytes = from_hex(tlsa_[key]);
    EXPECT_TRUE(bytes) << key << " in tlsa.env is not hex";
    return bytes.value_or(std::vector<std::uint8_t>{});
  }

  static inline std::map<std::string, std::string> world_;
  static inline std::map<std::string, std::string> tlsa_;
  static inline ResolverConfig config_;
  static inline UnboundResolver* resolver_ = nullptr;
  static inline std::string setup_error_;
};

TEST_F(DnsWorldTest, SelfTestPassesWithTheWorldAnchors) {
  const ResolverSelfTest t = run_resolver_self_test(*resolver_, config_, deadline());
  EXPECT_TRUE(t.validating) << t.reason;
}

TEST_F(DnsWorldTest, SelfTestFailsWithoutAnchors) {
  ResolverConfig unarmed = config_;
  unarmed.trust_anchor_files.clear();
  auto made = UnboundResolver::create(unarmed);
  ASSERT_TRUE(made.resolver) << made.error;
  const ResolverSelfTest t = run_resolver_self_test(*made.resolver, unarmed, deadline());
  EXPECT_FALSE(t.validating);
  EXPECT_NE(t.reason.find("insecure"), std::string::npos) << t.reason;
}

TEST_F(DnsWorldTest, SignedZoneIsSecureAndHasNoTlsa) {
  const MxResolution mx = resolve_mx(*resolver_, "signed.test", deadline());
  ASSERT_EQ(mx.status, MxStatus::kMxRecords) << mx.reason;
  EXPECT_EQ(mx.hosts, (std::vector<MxRecord>{{10, "mx.signed.test"}}));
  EXPECT_EQ(mx.mx_answer.security, Security::kSecure);
  ASSERT_TRUE(mx.mx_answer.earliest_rrsig_expiry.has_value());
  EXPECT_GT(*mx.mx_answer.earliest_rrsig_expiry, std::chrono::system_clock::now() + hours(24));

  const TlsaBaseDomainResult r = find_tlsa_base_domain(*resolver_, "mx.signed.test", deadline());
  EXPECT_EQ(r.applicability, DaneApplicability::kNotApplicableNoTlsa) << r.reason;
  EXPECT_TRUE(r.addresses_secure);
  EXPECT_EQ(r.addresses, (std::vector<HostAddress>{{"127.0.1.11", 4}}));
  EXPECT_EQ(r.tlsa_answer.security, Security::kSecure);  // a proven denial, not a failure
  EXPECT_NE(r.tlsa_answer.outcome, Outcome::kData);

  const Answer txt = resolver_->lookup("_smtp._tls.signed.test", RrType::kTxt, deadline());
  EXPECT_EQ(txt.security, Security::kSecure);
  EXPECT_EQ(decode_txt(txt).records,
            std::vector<std::string>{"v=TLSRPTv1; rua=mailto:tlsrpt@signed.test"});
}

TEST_F(DnsWorldTest, InsecureZoneIsInsecureAndDaneDoesNotApply) {
  const MxResolution mx = resolve_mx(*resolver_, "insecure.test", deadline());
  ASSERT_EQ(mx.status, MxStatus::kMxRecords) << mx.reason;
  EXPECT_EQ(mx.mx_answer.security, Security::kInsecure);
  EXPECT_FALSE(mx.mx_answer.earliest_rrsig_expiry.has_value());
  const TlsaBaseDomainResult r = find_tlsa_base_domain(*resolver_, "mx.insecure.test", deadline());
  EXPECT_EQ(r.applicability, DaneApplicability::kNotApplicableInsecure);
  EXPECT_TRUE(r.candidates.empty());
  EXPECT_EQ(r.addresses, (std::vector<HostAddress>{{"127.0.1.12", 4}}));
}

TEST_F(DnsWorldTest, BogusZoneFailsEveryLookup) {
  const MxResolution mx = resolve_mx(*resolver_, "bogus.test", deadline());
  EXPECT_EQ(mx.status, MxStatus::kLookupFailed);
  EXPECT_EQ(mx.mx_answer.security, Security::kBogus);
  EXPECT_FALSE(mx.mx_answer.reason.empty());  // why_bogus
  EXPECT_TRUE(mx.hosts.empty());
  const TlsaBaseDomainResult r = find_tlsa_base_domain(*resolver_, "mx.bogus.test", deadline());
  EXPECT_EQ(r.applicability, DaneApplicability::kLookupFailed);
  ASSERT_FALSE(r.answers.empty());
  EXPECT_EQ(r.answers[0].security, Security::kBogus);
}

TEST_F(DnsWorldTest, ExpiringZoneSignaturesEndWithinADay) {
  const auto now = std::chrono::system_clock::now();
  const MxResolution mx = resolve_mx(*resolver_, "expiring.test", deadline());
  ASSERT_EQ(mx.status, MxStatus::kMxRecords) << mx.reason;
  EXPECT_EQ(mx.mx_answer.security, Security::kSecure);
  ASSERT_TRUE(mx.mx_answer.earliest_rrsig_expiry.has_value());
  EXPECT_GT(*mx.mx_answer.earliest_rrsig_expiry, now);
  EXPECT_LT(*mx.mx_answer.earliest_rrsig_expiry, now + hours(24));

  const TlsaBaseDomainResult r = find_tlsa_base_domain(*resolver_, "mx.expiring.test", deadline());
  EXPECT_EQ(r.applicability, DaneApplicability::kDaneAppliesUsable) << r.reason;
  ASSERT_TRUE(r.tlsa_answer.earliest_rrsig_expiry.has_value());
  EXPECT_LT(*r.tlsa_answer.earliest_rrsig_expiry, now + hours(24));
  ASSERT_EQ(r.tlsa_records.size(), 1u);
  EXPECT_EQ(r.tlsa_records[0].data, spki("SPKI_SIGNED"));
}

// T2 d): mail.cname-mx.test CNAME mx.dane-good.test, both signed -> expanded name first.
TEST_F(DnsWorldTest, SecureCnameMxUsesTheExpandedName) {
  const MxResolution mx = resolve_mx(*resolver_, "cname-mx.test", deadline());
  ASSERT_EQ(mx.status, MxStatus::kMxRecords) << mx.reason;
  EXPECT_EQ(mx.hosts, (std::vector<MxRecord>{{10, "mail.cname-mx.test"}}));
  const TlsaBaseDomainResult r =
      find_tlsa_base_domain(*resolver_, "mail.cname-mx.test", deadline());
  EXPECT_EQ(r.canonical_name, "mx.dane-good.test");
  EXPECT_TRUE(r.initial_cname_secure);
  EXPECT_TRUE(r.addresses_secure);
  EXPECT_EQ(r.candidates, (std::vector<std::string>{"mx.dane-good.test", "mail.cname-mx.test"}));
  EXPECT_EQ(r.base_domain, "mx.dane-good.test");
  EXPECT_EQ(r.applicability, DaneApplicability::kDaneAppliesUsable) << r.reason;
  ASSERT_EQ(r.tlsa_records.size(), 1u);
  EXPECT_EQ(r.tlsa_records[0].data, spki("SPKI_GOOD"));
  EXPECT_EQ(r.addresses, (std::vector<HostAddress>{{"127.0.1.1", 4}}));
  // The address answer covers the chain: the CNAME's signature counts for its expiry.
  ASSERT_TRUE(r.answers[0].earliest_rrsig_expiry.has_value());
}

// T2 c): mail.cname-insecure.test (signed) CNAME mx.insecure.test (unsigned) -> original name.
TEST_F(DnsWorldTest, SecureCnameToInsecureTargetUsesTheOriginalName) {
  const TlsaBaseDomainResult r =
      find_tlsa_base_domain(*resolver_, "mail.cname-insecure.test", deadline());
  EXPECT_EQ(r.canonical_name, "mx.insecure.test");
  EXPECT_FALSE(r.addresses_secure);
  EXPECT_TRUE(r.initial_cname_secure);
  EXPECT_EQ(r.candidates, std::vector<std::string>{"mail.cname-insecure.test"});
  EXPECT_EQ(r.base_domain, "mail.cname-insecure.test");
  EXPECT_EQ(r.applicability, DaneApplicability::kDaneAppliesUsable) << r.reason;
  ASSERT_EQ(r.tlsa_records.size(), 1u);
  EXPECT_EQ(r.tlsa_records[0].data, spki("SPKI_INSECURE"));
}

// M3: no MX -> the domain itself, TLSA at _25._tcp.nomx.test.
TEST_F(DnsWorldTest, ImplicitMxUsesTheDomain) {
  const MxResolution mx = resolve_mx(*resolver_, "nomx.test", deadline());
  ASSERT_EQ(mx.status, MxStatus::kImplicitMx) << mx.reason;
  EXPECT_EQ(mx.mx_answer.security, Security::kSecure);
  EXPECT_EQ(mx.hosts, (std::vector<MxRecord>{{0, "nomx.test"}}));
  const TlsaBaseDomainResult r = find_tlsa_base_domain(*resolver_, "nomx.test", deadline());
  EXPECT_EQ(r.base_domain, "nomx.test");
  EXPECT_EQ(r.applicability, DaneApplicability::kDaneAppliesUsable) << r.reason;
  ASSERT_EQ(r.tlsa_records.size(), 1u);
  EXPECT_EQ(r.tlsa_records[0].data, spki("SPKI_NOMX"));
}

TEST_F(DnsWorldTest, NonexistentNameIsSecureNxDomain) {
  const Answer a = resolver_->lookup("nothing-here.signed.test", RrType::kA, deadline());
  EXPECT_EQ(a.outcome, Outcome::kNxDomain);
  EXPECT_EQ(a.security, Security::kSecure);
  EXPECT_EQ(a.rcode, 3);
}

}  // namespace
}  // namespace mailtls::dns
