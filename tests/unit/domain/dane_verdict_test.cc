// The mapping of probes/dane verdicts into a DomainReport, through every dane_status rule,
// STARTTLS mandatory once TLSA exists, and rollover readiness (docs/verdicts.md, Addendum).

#include "probes/domain/dane_verdict.h"

#include <gtest/gtest.h>
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

// Builds the inputs of assess_dane for a domain whose MX hosts are described in the test.
struct World {
  DomainReport report;
  std::vector<dns::TlsaBaseDomainResult> hosts;
  std::vector<smtp::StarttlsResult> results;
  std::vector<std::pair<size_t, std::string>> owner;
  dns::MxResolution mx;

  World() {
    report.domain = "example.com";
    mx.status = dns::MxStatus::kMxRecords;
    mx.mx_answer.security = dns::Security::kSecure;
  }
  size_t add_mx(const std::string& host, dns::DaneApplicability app, std::vector<dns::TlsaRecord> tlsa) {
    dns::TlsaBaseDomainResult h;
    h.host = host;
    h.applicability = app;
    h.base_domain = tlsa.empty() ? "" : host;
    h.tlsa_records = std::move(tlsa);
    hosts.push_back(h);
    MxReport m;
    m.host = host;
    switch (app) {
      case dns::DaneApplicability::kDaneAppliesUsable: m.dane_state = "usable"; break;
      case dns::DaneApplicability::kDaneAppliesNoneUsable: m.dane_state = "none_usable"; break;
      case dns::DaneApplicability::kLookupFailed: m.dane_state = "lookup_failed"; break;
      case dns::DaneApplicability::kNotApplicableInsecure: m.dane_state = "insecure"; break;
      default: m.dane_state = "none";
    }
    report.mx.push_back(m);
    return report.mx.size() - 1;
  }
  void add_address(size_t mx_index, const std::string& ip, const TestCert* leaf, bool starttls = true) {
    smtp::StarttlsResult s;
    s.address = ip;
    s.connect_ok = true;
    s.starttls_offered = starttls;
    s.starttls_ok = starttls && leaf != nullptr;
    s.phase = s.starttls_ok ? smtp::StarttlsPhase::kDone : smtp::StarttlsPhase::kEhlo;
    if (leaf) s.chain = tls::X509Chain::parse({leaf->der()});
    results.push_back(s);
    owner.emplace_back(mx_index, ip);
    AddressReport a;
    a.address = ip;
    a.starttls_ok = s.starttls_ok;
    report.mx[mx_index].addresses.push_back(a);
  }
  void assess() { assess_dane(report, hosts, results, owner, mx, std::chrono::system_clock::now()); }
};

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
  EXPECT_EQ(w.report.dane_status, "valid");
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
  EXPECT_EQ(w.report.dane_status, "degraded");
  EXPECT_FALSE(w.report.mx[0].addresses[1].dane_match);
  EXPECT_EQ(w.report.mx[0].addresses[1].dane_result_type, "tlsa-invalid");
}

TEST_F(DaneVerdict, BrokenAfterAKeyChangeF1) {
  World w;
  auto i = w.add_mx("mx1.example.com", dns::DaneApplicability::kDaneAppliesUsable, {ee(key_a_)});
  w.add_address(i, "192.0.2.1", &key_b_);
  w.assess();
  EXPECT_EQ(w.report.dane_status, "broken");
  EXPECT_FALSE(w.report.mx[0].tlsa[0].matches.at("192.0.2.1"));
}

TEST_F(DaneVerdict, StarttlsIsMandatoryOnceTlsaExists) {
  World w;
  auto i = w.add_mx("mx1.example.com", dns::DaneApplicability::kDaneAppliesUsable, {ee(key_a_)});
  w.add_address(i, "192.0.2.1", nullptr, /*starttls=*/false);
  w.assess();
  EXPECT_EQ(w.report.dane_status, "broken");
  EXPECT_EQ(w.report.mx[0].addresses[0].dane_result_type, "starttls-not-supported");
}

TEST_F(DaneVerdict, NoUsableRecordsStillNeedTls) {
  World ok;
  auto i = ok.add_mx("mx1.example.com", dns::DaneApplicability::kDaneAppliesNoneUsable, {{1, 1, 1, spki_sha256(key_a_)}});
  ok.add_address(i, "192.0.2.1", &key_b_);
  ok.assess();
  EXPECT_EQ(ok.report.dane_status, "valid");
  EXPECT_FALSE(ok.report.mx[0].tlsa[0].usable);
  World plain;
  i = plain.add_mx("mx1.example.com", dns::DaneApplicability::kDaneAppliesNoneUsable, {{1, 1, 1, spki_sha256(key_a_)}});
  plain.add_address(i, "192.0.2.1", nullptr, false);
  plain.assess();
  EXPECT_EQ(plain.report.dane_status, "broken");
}

TEST_F(DaneVerdict, BogusIsNeverNotDeployed) {
  World w;
  auto i = w.add_mx("mx1.example.com", dns::DaneApplicability::kDaneAppliesUsable, {ee(key_a_)});
  w.add_address(i, "192.0.2.1", &key_a_);
  w.add_mx("mx2.example.com", dns::DaneApplicability::kLookupFailed, {});
  w.assess();
  EXPECT_EQ(w.report.dane_status, "bogus");
  World failed_mx;
  failed_mx.mx.status = dns::MxStatus::kLookupFailed;
  failed_mx.assess();
  EXPECT_EQ(failed_mx.report.dane_status, "bogus");
}

TEST_F(DaneVerdict, NotDeployedAndPartial) {
  World none;
  auto i = none.add_mx("mx1.example.com", dns::DaneApplicability::kNotApplicableNoTlsa, {});
  none.add_address(i, "192.0.2.1", &key_a_);
  none.assess();
  EXPECT_EQ(none.report.dane_status, "not_deployed");
  EXPECT_FALSE(none.report.mx[0].addresses[0].dane_applies);

  World partial;
  i = partial.add_mx("mx1.example.com", dns::DaneApplicability::kDaneAppliesUsable, {ee(key_a_)});
  partial.add_address(i, "192.0.2.1", &key_a_);
  auto j = partial.add_mx("mx2.example.com", dns::DaneApplicability::kNotApplicableNoTlsa, {});
  partial.add_address(j, "192.0.2.2", &key_b_);
  partial.assess();
  EXPECT_EQ(partial.report.dane_status, "valid");
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
  smtp::StarttlsResult s;
  s.address = "192.0.2.1";
  s.connect_ok = s.starttls_offered = s.starttls_ok = true;
  s.phase = smtp::StarttlsPhase::kDone;
  s.chain = tls::X509Chain::parse({key_a_.der(), ca_.der()});
  ta.results.push_back(s);
  ta.owner.emplace_back(i, "192.0.2.1");
  AddressReport a;
  a.address = "192.0.2.1";
  ta.report.mx[i].addresses.push_back(a);
  ta.assess();
  EXPECT_TRUE(ta.report.mx[0].rollover_ready);
  EXPECT_EQ(ta.report.dane_status, "valid");
}

}  // namespace
}  // namespace mailtls::domain
