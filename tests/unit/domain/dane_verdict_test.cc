// The mapping of probes/dane verdicts into a DomainReport, through every dane_status rule,
// STARTTLS mandatory once TLSA exists, and rollover readiness (docs/verdicts.md, Addendum).

#include "probes/domain/dane_verdict.h"
#include "probes/domain/judge.h"

#include <gtest/gtest.h>

#include <memory>
#include <openssl/x509.h>

#include "probes/base/sha256.h"
#include "tests/fakes/test_certs.h"

namespace mailtls::domain {
namespace {

using mailtls::testing::make_test_ca;
using mailtls::testing::make_test_leaf;
using mailtls::testing::TestCert;
using mailtls::testing::TestCertSpec;

std::vector<std::uint8_t> spki_sha256(const TestCert& c) {
  unsigned char* der = nullptr;
  int n = i2d_X509_PUBKEY(X509_get_X509_PUBKEY(c.cert.get()), &der);
  const Sha256Digest digest = sha256(std::span(der, static_cast<std::size_t>(n)));
  OPENSSL_free(der);
  return {digest.begin(), digest.end()};
}

// Builds the observation of a domain whose MX hosts are described in the test, and judges it.
struct World {
  DomainObservation observed;
  DomainReport report;

  World() {
    observed.domain = "example.com";
    observed.check_mtasts = false;
    observed.check_tlsrpt = false;
    observed.mx.domain = "example.com";
    observed.mx.status = dns::MxStatus::kMxRecords;
    observed.mx.mx_answer.security = dns::Security::kSecure;
  }
  size_t add_mx(const std::string& host, dns::DaneApplicability app, std::vector<dns::TlsaRecord> tlsa) {
    MxHostObservation h;
    h.mx = {10, host};
    h.lookup.host = host;
    h.lookup.applicability = app;
    h.lookup.base_domain = tlsa.empty() ? "" : host;
    h.lookup.tlsa_records = std::move(tlsa);
    observed.hosts.push_back(std::move(h));
    return observed.hosts.size() - 1;
  }
  void add_address(size_t mx_index, const std::string& ip, const TestCert* leaf, bool starttls = true) {
    AddressObservation a;
    a.address = {ip, ip.find(':') == std::string::npos ? 4 : 6};
    auto& s = a.starttls;
    s.address = ip;
    s.connect_ok = true;
    s.starttls_offered = starttls;
    s.starttls_ok = starttls && leaf != nullptr;
    s.phase = s.starttls_ok ? smtp::StarttlsPhase::kDone : smtp::StarttlsPhase::kEhlo;
    if (leaf) s.chain = tls::X509Chain::parse({leaf->der()});
    observed.hosts[mx_index].lookup.addresses.push_back(a.address);
    observed.hosts[mx_index].addresses.push_back(std::move(a));
  }
  void assess() { report = judge_observation(observed, std::chrono::system_clock::now()); }
};

dns::MxResolution w_mx(const std::string& domain, const std::string& canonical) {
  dns::MxResolution mx;
  mx.domain = domain;
  mx.mx_answer.canonical_name = canonical;
  return mx;
}

class DaneVerdict : public ::testing::Test {
 protected:
  DaneVerdict()
      : ca_(make_test_ca("CA")),
        key_a_(make_test_leaf(TestCertSpec{"mx1.example.com", {"mx1.example.com"}}, ca_)),
        key_b_(make_test_leaf(TestCertSpec{"mx1.example.com", {"mx1.example.com"}}, ca_)) {}
  dns::TlsaRecord ee(const TestCert& c) const { return {3, 1, 1, spki_sha256(c)}; }
  TestCert ca_, key_a_, key_b_;
};

TEST_F(DaneVerdict, ValidWhenEveryAddressMatches) {
  World w;
  auto i = w.add_mx("mx1.example.com", dns::DaneApplicability::kDaneAppliesUsable, {ee(key_a_)});
  w.add_address(i, "192.0.2.1", &key_a_);
  w.add_address(i, "2001:db8::1", &key_a_);
  w.assess();
  EXPECT_EQ(domain::to_string(w.report.dane_status), "valid");
  EXPECT_TRUE(w.report.mx[0].addresses[1].dane_match);
  EXPECT_TRUE(w.report.mx[0].tlsa[0].matches.at("2001:db8::1"));
  EXPECT_EQ(w.report.mx[0].tlsa_usable, 1);
}

TEST_F(DaneVerdict, DegradedWhenOneAddressServesAnotherKey) {
  World w;
  auto i = w.add_mx("mx1.example.com", dns::DaneApplicability::kDaneAppliesUsable, {ee(key_a_)});
  w.add_address(i, "192.0.2.1", &key_a_);
  w.add_address(i, "2001:db8::1", &key_b_);  // B10: the IPv6 listener kept another key
  w.assess();
  EXPECT_EQ(domain::to_string(w.report.dane_status), "degraded");
  EXPECT_FALSE(w.report.mx[0].addresses[1].dane_match);
  EXPECT_EQ(w.report.mx[0].addresses[1].dane_result_type, "tlsa-invalid");
}

TEST_F(DaneVerdict, BrokenAfterAKeyChangeF1) {
  World w;
  auto i = w.add_mx("mx1.example.com", dns::DaneApplicability::kDaneAppliesUsable, {ee(key_a_)});
  w.add_address(i, "192.0.2.1", &key_b_);
  w.assess();
  EXPECT_EQ(domain::to_string(w.report.dane_status), "broken");
  EXPECT_FALSE(w.report.mx[0].tlsa[0].matches.at("192.0.2.1"));
}

TEST_F(DaneVerdict, StarttlsIsMandatoryOnceTlsaExists) {
  World w;
  auto i = w.add_mx("mx1.example.com", dns::DaneApplicability::kDaneAppliesUsable, {ee(key_a_)});
  w.add_address(i, "192.0.2.1", nullptr, /*starttls=*/false);
  w.assess();
  EXPECT_EQ(domain::to_string(w.report.dane_status), "broken");
  EXPECT_EQ(w.report.mx[0].addresses[0].dane_result_type, "starttls-not-supported");
}

TEST_F(DaneVerdict, NoUsableRecordsStillNeedTls) {
  World ok;
  auto i = ok.add_mx("mx1.example.com", dns::DaneApplicability::kDaneAppliesNoneUsable, {{1, 1, 1, spki_sha256(key_a_)}});
  ok.add_address(i, "192.0.2.1", &key_b_);
  ok.assess();
  EXPECT_EQ(domain::to_string(ok.report.dane_status), "valid");
  EXPECT_FALSE(ok.report.mx[0].tlsa[0].usable);
  World plain;
  i = plain.add_mx("mx1.example.com", dns::DaneApplicability::kDaneAppliesNoneUsable, {{1, 1, 1, spki_sha256(key_a_)}});
  plain.add_address(i, "192.0.2.1", nullptr, false);
  plain.assess();
  EXPECT_EQ(domain::to_string(plain.report.dane_status), "broken");
}

TEST_F(DaneVerdict, BogusIsNeverNotDeployed) {
  World w;
  auto i = w.add_mx("mx1.example.com", dns::DaneApplicability::kDaneAppliesUsable, {ee(key_a_)});
  w.add_address(i, "192.0.2.1", &key_a_);
  w.add_mx("mx2.example.com", dns::DaneApplicability::kLookupFailed, {});
  w.assess();
  EXPECT_EQ(domain::to_string(w.report.dane_status), "bogus");
  World failed_mx;
  failed_mx.observed.mx.status = dns::MxStatus::kLookupFailed;
  failed_mx.assess();
  EXPECT_EQ(domain::to_string(failed_mx.report.dane_status), "bogus");
}

TEST_F(DaneVerdict, NotDeployedAndPartial) {
  World none;
  auto i = none.add_mx("mx1.example.com", dns::DaneApplicability::kNotApplicableNoTlsa, {});
  none.add_address(i, "192.0.2.1", &key_a_);
  none.assess();
  EXPECT_EQ(domain::to_string(none.report.dane_status), "not_deployed");
  EXPECT_FALSE(none.report.mx[0].addresses[0].dane_applies);

  World partial;
  i = partial.add_mx("mx1.example.com", dns::DaneApplicability::kDaneAppliesUsable, {ee(key_a_)});
  partial.add_address(i, "192.0.2.1", &key_a_);
  auto j = partial.add_mx("mx2.example.com", dns::DaneApplicability::kNotApplicableNoTlsa, {});
  partial.add_address(j, "192.0.2.2", &key_b_);
  partial.assess();
  EXPECT_EQ(domain::to_string(partial.report.dane_status), "valid");
  EXPECT_TRUE(partial.report.dane_partial);
}

TEST_F(DaneVerdict, RolloverReadiness) {
  auto ready = [&](std::vector<dns::TlsaRecord> records) {
    World w;
    auto i = w.add_mx("mx1.example.com", dns::DaneApplicability::kDaneAppliesUsable, std::move(records));
    w.add_address(i, "192.0.2.1", &key_a_);
    w.assess();
    return w.report.mx[0].rollover_ready;
  };
  EXPECT_FALSE(ready({ee(key_a_)}));                 // only the key in use: F3
  EXPECT_TRUE(ready({ee(key_a_), ee(key_b_)}));      // the next key pre-published
  EXPECT_FALSE(ready({ee(key_a_), ee(key_a_)}));     // a duplicate is not a next key
  EXPECT_FALSE(ready({ee(key_a_), {3, 1, 1, {1, 2}}}));  // an unusable record is not either
  // 2 1 1 for the issuing CA needs the CA in the chain: build one with it.
  World ta;
  auto i = ta.add_mx("mx1.example.com", dns::DaneApplicability::kDaneAppliesUsable,
                     {{2, 1, 1, spki_sha256(ca_)}, ee(key_a_)});
  ta.add_address(i, "192.0.2.1", &key_a_);
  ta.observed.hosts[i].addresses[0].starttls.chain = tls::X509Chain::parse({key_a_.der(), ca_.der()});
  ta.assess();
  EXPECT_TRUE(ta.report.mx[0].rollover_ready);
  EXPECT_EQ(domain::to_string(ta.report.dane_status), "valid");
}


// Stale records and groups (F2, T11) reach the verdict: a pre-published next key is a stale
// record, and a combination whose only record is for a past key is a stale group.
TEST_F(DaneVerdict, StaleRecordsAndGroupsAreInTheVerdict) {
  World w;
  auto i = w.add_mx("mx1.example.com", dns::DaneApplicability::kDaneAppliesUsable,
                    {ee(key_a_), ee(key_b_), {3, 0, 1, spki_sha256(key_b_)}});
  w.add_address(i, "192.0.2.1", &key_a_);
  w.assess();
  ASSERT_EQ(w.report.mx[0].tlsa.size(), 3u);
  EXPECT_FALSE(w.report.mx[0].tlsa[0].stale);
  EXPECT_TRUE(w.report.mx[0].tlsa[1].stale);
  EXPECT_TRUE(w.report.mx[0].tlsa[2].stale);
  EXPECT_EQ(w.report.mx[0].stale_groups, (std::vector<dane::TlsaGroup>{{3, 0, 1}}));
}

// RFC 7672 §3.2.2: a DANE-TA(2) certificate is named for the TLSA base domain, or, with a secure
// MX RRset, for the next-hop domain or its CNAME expansion; with an insecure MX RRset the
// next-hop names do not count. When the base domain is the MX host's CNAME expansion, the MX
// host name itself is not a reference identifier (Postfix agrees: docs/verdicts.md T9).
TEST_F(DaneVerdict, DaneTaReferenceNamesIncludeTheNextHopOnlyWhenTheMxIsSecure) {
  const auto ta_for = [&](const std::string& name) {
    return std::make_unique<TestCert>(make_test_leaf(TestCertSpec{name, {name}}, ca_));
  };
  const auto verdict = [&](const TestCert& leaf, dns::Security mx_security, const std::string& expanded,
                           const std::string& base_domain) {
    World w;
    w.observed.mx.mx_answer.security = mx_security;
    w.observed.mx.mx_answer.canonical_name = expanded;
    auto i = w.add_mx("mx1.example.com", dns::DaneApplicability::kDaneAppliesUsable, {{2, 1, 1, spki_sha256(ca_)}});
    w.observed.hosts[i].lookup.base_domain = base_domain;
    w.add_address(i, "192.0.2.1", &leaf);
    w.observed.hosts[i].addresses[0].starttls.chain = tls::X509Chain::parse({leaf.der(), ca_.der()});
    w.assess();
    return std::string(domain::to_string(w.report.dane_status));
  };
  const auto next_hop = ta_for("example.com");
  EXPECT_EQ(verdict(*next_hop, dns::Security::kSecure, "example.com", "mx1.example.com"), "valid");
  EXPECT_EQ(verdict(*next_hop, dns::Security::kInsecure, "example.com", "mx1.example.com"), "broken");
  const auto expanded = ta_for("mail.example.net");
  EXPECT_EQ(verdict(*expanded, dns::Security::kSecure, "mail.example.net", "mx1.example.com"), "valid");
  EXPECT_EQ(verdict(*expanded, dns::Security::kSecure, "example.com", "mx1.example.com"), "broken");
  const auto mx_host = ta_for("mx1.example.com");
  EXPECT_EQ(verdict(*mx_host, dns::Security::kSecure, "example.com", "mx1.example.com"), "valid");
  EXPECT_EQ(verdict(*mx_host, dns::Security::kSecure, "example.com", "mx1.cname-target.example.org"), "broken");
  EXPECT_EQ(verdict(*mx_host, dns::Security::kInsecure, "example.com", "mx1.cname-target.example.org"), "broken");
  const auto cname_target = ta_for("mx1.cname-target.example.org");
  EXPECT_EQ(verdict(*cname_target, dns::Security::kInsecure, "example.com", "mx1.cname-target.example.org"), "valid");
  EXPECT_EQ(extra_next_hop_names(w_mx("example.com", "mail.example.net")), std::vector<std::string>{"mail.example.net"});
  EXPECT_TRUE(extra_next_hop_names(w_mx("example.com", "example.com")).empty());
}

}  // namespace
}  // namespace mailtls::domain
