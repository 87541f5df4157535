// docs/verdicts.md W1 (fixed-key digests), W4 (every row, decided by our matcher and by OpenSSL's
// own DANE code on the same inputs), T7-T10.
#include "probes/dane/chain_matcher.h"

#include <gtest/gtest.h>
#include <openssl/x509_vfy.h>

#include "probes/base/hex.h"
#include "probes/dane/openssl_dane_check.h"
#include "probes/dane/tlsa_association.h"
#include "probes/dane/tlsa_presentation.h"
#include "tests/unit/dane/w1_fixtures.h"

namespace mailtls::dane {
namespace {

using mailtls::testing::TestCert;
using mailtls::testing::TestCertSpec;
using testing::kW1Ca211;
using testing::kW1Leaf310;
using testing::kW1Leaf311;
using testing::kW1Leaf312;
using testing::kZeros32;
using testing::tlsa;
using namespace std::chrono_literals;

const std::string kGood311 = std::string("3 1 1 ") + kW1Leaf311;
const std::string kCa211 = std::string("2 1 1 ") + kW1Ca211;
const std::string kZeros311 = std::string("3 1 1 ") + kZeros32;

TestCertSpec mx1_spec() { return {.common_name = "mx1.example.com", .dns_names = {"mx1.example.com"}, .serial = 2}; }

TEST(W1FixedKeys, SpkiDigestsEqualThePublishedValues) {
  auto leaf_key = testing::load_private_key_pem(testing::kW1LeafKeyPem);
  auto ca_key = testing::load_private_key_pem(testing::kW1CaKeyPem);
  const Bytes leaf_spki = spki_der(leaf_key.get());
  EXPECT_EQ(leaf_spki.size(), 91u);  // P-256
  EXPECT_EQ(to_hex(association_data(leaf_spki, 0)), kW1Leaf310);
  EXPECT_EQ(to_hex(association_data(leaf_spki, 1)), kW1Leaf311);
  EXPECT_EQ(to_hex(association_data(leaf_spki, 2)), kW1Leaf312);
  EXPECT_EQ(to_hex(association_data(spki_der(ca_key.get()), 1)), kW1Ca211);
  EXPECT_TRUE(association_data(leaf_spki, 3).empty());
}

TEST(W1FixedKeys, CertificateSelectorsGiveTheSameKeyDigests) {
  TestCert ca = testing::make_w1_ca();
  TestCert leaf = testing::make_w1_leaf(ca, mx1_spec());
  auto r311 = tlsa_record_for(leaf.der(), 3, 1, 1);
  ASSERT_TRUE(r311);
  EXPECT_EQ(r311->to_string(), kGood311);
  auto r211 = tlsa_record_for(ca.der(), 2, 1, 1);
  ASSERT_TRUE(r211);
  EXPECT_EQ(*r211, tlsa(kCa211));
  // x 0 1 digests the whole certificate: it changes with every issue, even with the same key.
  TestCert reissued = testing::make_w1_leaf(ca, {.common_name = "mx1.example.com", .dns_names = {"mx1.example.com"}, .serial = 3});
  EXPECT_EQ(*tlsa_record_for(reissued.der(), 3, 1, 1), *r311);
  EXPECT_NE(*tlsa_record_for(reissued.der(), 3, 0, 1), *tlsa_record_for(leaf.der(), 3, 0, 1));
  EXPECT_FALSE(tlsa_record_for(tls::DerBytes{0x30, 0x00}, 3, 1, 1));
}

// The W4 setup: leaf (W1 key, SAN mx1.example.com) signed by the W1 CA.
class W4Table : public ::testing::Test {
 protected:
  TestCert ca_ = testing::make_w1_ca();
  TestCert leaf_ = testing::make_w1_leaf(ca_, mx1_spec());
  TestCert expired_leaf_ = testing::make_w1_leaf(
      ca_, {.common_name = "mx1.example.com", .dns_names = {"mx1.example.com"},
            .not_before_offset = -std::chrono::hours(24 * 400), .not_after_offset = -std::chrono::hours(24 * 30), .serial = 4});
  tls::DerChain chain_ = {leaf_.der(), ca_.der()};
  SystemTime now_ = std::chrono::system_clock::now();

  // Our verdict, checked against OpenSSL's DANE decision on the same inputs.
  ChainMatch decide(const tls::DerChain& chain, const std::vector<std::string>& records,
                    const std::vector<std::string>& names = {"mx1.example.com"}) {
    std::vector<dns::TlsaRecord> rrset;
    for (const auto& r : records) rrset.push_back(tlsa(r));
    ChainMatch ours = match_chain(chain, rrset, names, now_);
    OpensslDaneVerdict theirs = verify_with_openssl_dane(chain, rrset, names, now_);
    EXPECT_EQ(ours.authenticated, theirs.authenticated) << "OpenSSL says: " << theirs.message;
    last_openssl_ = theirs;
    return ours;
  }
  OpensslDaneVerdict last_openssl_;
};

TEST_F(W4Table, Good311Passes) {
  auto m = decide(chain_, {kGood311});
  EXPECT_TRUE(m.authenticated);
  EXPECT_EQ(m.result_type, DaneResultType::kOk);
  ASSERT_TRUE(m.matched_record);
  EXPECT_EQ(*m.matched_record, 0u);
  EXPECT_EQ(m.records[0].matched_depth, 0);
  EXPECT_EQ(last_openssl_.matched_depth, 0);
  ASSERT_TRUE(last_openssl_.matched_record);
  EXPECT_EQ(*last_openssl_.matched_record, tlsa(kGood311));
}

TEST_F(W4Table, Ca211WithBaseEqualToSanPasses) {
  auto m = decide(chain_, {kCa211});
  EXPECT_TRUE(m.authenticated);
  EXPECT_EQ(m.records[0].matched_depth, 1);
  EXPECT_TRUE(m.records[0].path_ok);
  EXPECT_EQ(last_openssl_.matched_depth, 1);
}

TEST_F(W4Table, Ca211WithOtherBaseIsHostMismatch) {
  auto m = decide(chain_, {kCa211}, {"other.example.net"});
  EXPECT_FALSE(m.authenticated);
  EXPECT_TRUE(m.records[0].data_matches);
  EXPECT_FALSE(m.records[0].path_ok);
  EXPECT_EQ(m.records[0].failure, DaneResultType::kCertificateHostMismatch);
  EXPECT_EQ(m.result_type, DaneResultType::kCertificateHostMismatch);
  EXPECT_EQ(to_string(m.result_type), "certificate-host-mismatch");
  EXPECT_EQ(last_openssl_.verify_error, X509_V_ERR_HOSTNAME_MISMATCH);
}

TEST_F(W4Table, Good311WithBaseNotMatchingTheCertificateStillPasses) {
  // DANE-EE: no name checks (RFC 7672 §3.2.1); OpenSSL needs DANE_FLAG_NO_DANE_EE_NAMECHECKS.
  auto m = decide(chain_, {kGood311}, {"other.example.net"});
  EXPECT_TRUE(m.authenticated);
}

TEST_F(W4Table, Zeros311FailsTlsaInvalid) {
  auto m = decide(chain_, {kZeros311});
  EXPECT_FALSE(m.authenticated);
  EXPECT_FALSE(m.records[0].data_matches);
  EXPECT_EQ(m.result_type, DaneResultType::kTlsaInvalid);
  EXPECT_EQ(last_openssl_.verify_error, X509_V_ERR_DANE_NO_MATCH);
}

TEST_F(W4Table, Good311BesideZeros312FailsByAgility) {
  auto m = decide(chain_, {kGood311, std::string("3 1 2 ") + kZeros32 + kZeros32});
  EXPECT_FALSE(m.authenticated);
  EXPECT_TRUE(m.records[0].data_matches);  // the record is right, but does not count
  EXPECT_FALSE(m.records[0].usability.counts);
  EXPECT_TRUE(m.agility_shadowed_match);
  EXPECT_EQ(m.result_type, DaneResultType::kTlsaInvalid);
}

TEST_F(W4Table, Zeros311BesideCa211Passes) {
  auto m = decide(chain_, {kZeros311, kCa211});
  EXPECT_TRUE(m.authenticated);
  ASSERT_TRUE(m.matched_record);
  EXPECT_EQ(*m.matched_record, 1u);
  EXPECT_FALSE(m.records[0].data_matches);
  EXPECT_EQ(last_openssl_.matched_depth, 1);
}

TEST_F(W4Table, Pkix111OnlyIsUnusableNotAFailureOfMatching) {
  auto m = decide(chain_, {std::string("1 1 1 ") + kW1Leaf311});
  EXPECT_FALSE(m.authenticated);
  EXPECT_FALSE(m.records[0].usability.usable);
  EXPECT_EQ(m.records[0].usability.unusable_reason, TlsaUnusableReason::kPkixUsage);
  EXPECT_FALSE(m.records[0].data_matches);  // unusable records are not matched
  EXPECT_EQ(last_openssl_.records_added, 0);  // never handed to OpenSSL (no PKIX fallback)
}

TEST_F(W4Table, Abcd311IsUnusable) {
  auto m = decide(chain_, {"3 1 1 abcd"});
  EXPECT_FALSE(m.records[0].usability.usable);
  EXPECT_EQ(m.records[0].usability.unusable_reason, TlsaUnusableReason::kBadDigestLength);
  EXPECT_EQ(last_openssl_.records_added, 0);
}

TEST_F(W4Table, LeafOnlyChainWithCa211Fails) {
  // B3: the trust anchor must be in the presented chain.
  auto m = decide({leaf_.der()}, {kCa211});
  EXPECT_FALSE(m.authenticated);
  EXPECT_FALSE(m.records[0].data_matches);
  EXPECT_EQ(m.result_type, DaneResultType::kTlsaInvalid);
}

TEST_F(W4Table, ExpiredLeafWith311Passes) {
  auto m = decide({expired_leaf_.der(), ca_.der()}, {kGood311});
  EXPECT_TRUE(m.authenticated);
}

TEST_F(W4Table, ExpiredLeafWithCa211IsCertificateExpired) {
  auto m = decide({expired_leaf_.der(), ca_.der()}, {kCa211});
  EXPECT_FALSE(m.authenticated);
  EXPECT_TRUE(m.records[0].data_matches);
  EXPECT_EQ(m.result_type, DaneResultType::kCertificateExpired);
  EXPECT_EQ(last_openssl_.verify_error, X509_V_ERR_CERT_HAS_EXPIRED);
}

TEST_F(W4Table, LeafNotYetValidWithCa211IsCertificateExpiredToo) {
  auto m = match_chain(chain_, {tlsa(kCa211)}, {"mx1.example.com"}, now_ - std::chrono::hours(24 * 7));
  EXPECT_FALSE(m.authenticated);
  EXPECT_EQ(m.result_type, DaneResultType::kCertificateExpired);
}

TEST_F(W4Table, ExpiredTrustAnchorCertificate) {
  // The anchor's own certificate expired: OpenSSL checks its dates too (verified here by the
  // cross-check in decide()), so a sender using it fails.
  TestCert old_ca = mailtls::testing::make_test_ca(
      "Expired CA", {.not_before_offset = -std::chrono::hours(24 * 400), .not_after_offset = -std::chrono::hours(24), .is_ca = true});
  TestCert leaf = mailtls::testing::make_test_leaf({.common_name = "mx1.example.com", .dns_names = {"mx1.example.com"}}, old_ca);
  auto m = decide({leaf.der(), old_ca.der()}, {tlsa_record_for(old_ca.der(), 2, 1, 1)->to_string()});
  EXPECT_FALSE(m.authenticated);
  EXPECT_EQ(m.result_type, DaneResultType::kCertificateExpired);
  EXPECT_EQ(last_openssl_.verify_error, X509_V_ERR_CERT_HAS_EXPIRED);
}

TEST_F(W4Table, CertificateSelectorRecordsMatch) {
  auto r301 = tlsa_record_for(leaf_.der(), 3, 0, 1);
  auto r201 = tlsa_record_for(ca_.der(), 2, 0, 1);
  auto r300 = tlsa_record_for(leaf_.der(), 3, 0, 0);
  ASSERT_TRUE(r301 && r201 && r300);
  EXPECT_TRUE(decide(chain_, {r301->to_string()}).authenticated);
  EXPECT_TRUE(decide(chain_, {r201->to_string()}).authenticated);
  EXPECT_TRUE(decide(chain_, {r300->to_string()}).authenticated);
  EXPECT_TRUE(decide(chain_, {std::string("3 1 0 ") + kW1Leaf310}).authenticated);
  EXPECT_TRUE(decide(chain_, {std::string("3 1 2 ") + kW1Leaf312}).authenticated);
}

TEST_F(W4Table, TaRecordNeverMatchesTheLeafItself) {
  // A "2 1 1" with the leaf's key: OpenSSL compares DANE-TA only above depth 0.
  auto m = decide(chain_, {std::string("2 1 1 ") + kW1Leaf311});
  EXPECT_FALSE(m.authenticated);
  EXPECT_FALSE(m.records[0].data_matches);
}

TEST_F(W4Table, NextHopDomainIsASecondReferenceIdentifier) {
  TestCert leaf = testing::make_w1_leaf(ca_, {.common_name = "example.com", .dns_names = {"example.com"}, .serial = 5});
  tls::DerChain chain = {leaf.der(), ca_.der()};
  EXPECT_FALSE(decide(chain, {kCa211}, {"mx1.example.com"}).authenticated);
  EXPECT_TRUE(decide(chain, {kCa211}, {"mx1.example.com", "example.com"}).authenticated);
}

TEST_F(W4Table, UnparseableChainElements) {
  const tls::DerBytes garbage = {0x30, 0x03, 0x02, 0x01, 0x00};
  auto m = decide({leaf_.der(), garbage}, {kGood311});
  EXPECT_TRUE(m.authenticated);  // DANE-EE needs only the leaf
  EXPECT_EQ(m.parsed_certificates, 1);
  auto bad_leaf = match_chain({garbage, ca_.der()}, {tlsa(kGood311)}, {"mx1.example.com"}, now_);
  EXPECT_FALSE(bad_leaf.authenticated);
  EXPECT_EQ(bad_leaf.result_type, DaneResultType::kValidationFailure);
  EXPECT_EQ(bad_leaf.message, "the leaf certificate does not parse");
  auto empty = match_chain(tls::DerChain{}, {tlsa(kGood311)}, {"mx1.example.com"}, now_);
  EXPECT_FALSE(empty.authenticated);
  EXPECT_EQ(empty.result_type, DaneResultType::kValidationFailure);
  EXPECT_EQ(empty.message, "no certificate presented");
  auto none = match_chain(tls::X509Chain{}, {tlsa(kGood311)}, {"mx1.example.com"}, now_);
  EXPECT_EQ(none.result_type, DaneResultType::kValidationFailure);
  EXPECT_EQ(none.message, "no certificate presented");
}

// T9 name rules under DANE-TA, with fresh keys (no W1 vectors needed).
class DaneTaNames : public ::testing::Test {
 protected:
  TestCert ca_ = mailtls::testing::make_test_ca("Names CA");
  SystemTime now_ = std::chrono::system_clock::now();
  bool authenticated(const TestCertSpec& spec, const std::string& base) {
    TestCert leaf = mailtls::testing::make_test_leaf(spec, ca_);
    tls::DerChain chain = {leaf.der(), ca_.der()};
    std::vector<dns::TlsaRecord> rrset = {*tlsa_record_for(ca_.der(), 2, 1, 1)};
    bool ours = match_chain(chain, rrset, {base}, now_).authenticated;
    EXPECT_EQ(ours, verify_with_openssl_dane(chain, rrset, {base}, now_).authenticated) << base;
    return ours;
  }
};

TEST_F(DaneTaNames, WildcardMatchesExactlyOneLabel) {
  TestCertSpec wild{.common_name = "wild", .dns_names = {"*.example.com"}};
  EXPECT_TRUE(authenticated(wild, "mx1.example.com"));
  EXPECT_FALSE(authenticated(wild, "a.b.example.com"));
  EXPECT_FALSE(authenticated(wild, "example.com"));
}

TEST_F(DaneTaNames, PartialWildcardIsInvalid) {
  EXPECT_FALSE(authenticated({.common_name = "partial", .dns_names = {"smtp*.example.com"}}, "smtp1.example.com"));
}

TEST_F(DaneTaNames, CommonNameOnlyWithoutDnsIds) {
  // A SAN with DNS-IDs hides the CN; without any SAN the CN is the identifier.
  EXPECT_FALSE(authenticated({.common_name = "mx1.example.com", .dns_names = {"other.example.com"}}, "mx1.example.com"));
  EXPECT_TRUE(authenticated({.common_name = "mx1.example.com", .dns_names = {}}, "mx1.example.com"));
  EXPECT_TRUE(authenticated({.common_name = "x", .dns_names = {"MX1.Example.COM"}}, "mx1.example.com"));
}

TEST(DaneTaChains, IntermediatesAndOrder) {
  TestCert root = mailtls::testing::make_test_ca("Root");
  TestCert inter = mailtls::testing::make_test_leaf({.common_name = "Intermediate", .serial = 7, .is_ca = true}, root);
  TestCert leaf = mailtls::testing::make_test_leaf({.common_name = "mx", .dns_names = {"mx.example.org"}}, inter);
  const auto now = std::chrono::system_clock::now();
  const std::vector<std::string> names = {"mx.example.org"};
  const std::vector<dns::TlsaRecord> root211 = {*tlsa_record_for(root.der(), 2, 1, 1)};
  const std::vector<dns::TlsaRecord> inter211 = {*tlsa_record_for(inter.der(), 2, 1, 1)};

  auto full = match_chain({leaf.der(), inter.der(), root.der()}, root211, names, now);
  EXPECT_TRUE(full.authenticated);
  EXPECT_EQ(full.records[0].matched_depth, 2);
  EXPECT_TRUE(match_chain({leaf.der(), inter.der()}, inter211, names, now).authenticated);
  // Out of order: the anchor is found wherever it is, intermediates are untrusted helpers.
  auto shuffled = match_chain({leaf.der(), root.der(), inter.der()}, root211, names, now);
  EXPECT_TRUE(shuffled.authenticated);
  EXPECT_TRUE(verify_with_openssl_dane({leaf.der(), root.der(), inter.der()}, root211, names, now).authenticated);
  // The intermediate missing: the root matches, but there is no path to it.
  auto gap = match_chain({leaf.der(), root.der()}, root211, names, now);
  EXPECT_FALSE(gap.authenticated);
  EXPECT_TRUE(gap.records[0].data_matches);
  EXPECT_EQ(gap.result_type, DaneResultType::kValidationFailure);
  EXPECT_FALSE(verify_with_openssl_dane({leaf.der(), root.der()}, root211, names, now).authenticated);
}

}  // namespace
}  // namespace mailtls::dane
