// docs/verdicts.md T14: every key type a server offers must match. An ECDSA chain from the
// unrestricted handshake and an RSA chain from the handshake limited to RSA, against TLSA
// records for one or both keys.
#include <gtest/gtest.h>

#include "probes/dane/dane_assessment.h"
#include "probes/dane/tlsa_association.h"
#include "tests/unit/dane/w1_fixtures.h"

namespace mailtls::dane {
namespace {

using dns::DaneApplicability;
using mailtls::testing::TestCert;
using tls::HandshakeKeyType;

class KeyTypeAssessment : public ::testing::Test {
 protected:
  TestCert ca_ = testing::make_w1_ca();
  TestCert ecdsa_ = testing::make_w1_leaf(ca_, {.common_name = "mx1.example.com", .dns_names = {"mx1.example.com"}, .serial = 2});
  TestCert rsa_ = mailtls::testing::make_test_leaf(
      {.common_name = "mx1.example.com", .dns_names = {"mx1.example.com"},
       .key_type = mailtls::testing::TestKeyType::kRsa2048, .serial = 3},
      ca_);
  SystemTime now_ = std::chrono::system_clock::now();

  dns::TlsaRecord record_311(const TestCert& c) const { return *tlsa_record_for(c.der(), 3, 1, 1); }

  // One address whose unrestricted handshake got `first`; `other`, when set, is what the
  // handshake limited to the other key type got.
  AddressProbe address(const TestCert& first, HandshakeKeyType first_type, const TestCert* other) const {
    AddressProbe p{"192.0.2.1", true, true, true, tls::X509Chain::parse({first.der(), ca_.der()}), first_type, {}};
    if (other != nullptr) {
      p.other_key_types.push_back({tls::other_key_type(first_type), tls::X509Chain::parse({other->der(), ca_.der()})});
    }
    return p;
  }

  DomainDaneResult assess(std::vector<dns::TlsaRecord> records, AddressProbe a) const {
    DomainDaneInput in;
    in.domain = "example.com";
    in.mx.push_back({"mx1.example.com", DaneApplicability::kDaneAppliesUsable, "mx1.example.com",
                     std::move(records), {std::move(a)}});
    return assess_domain_dane(in, now_);
  }
};

TEST_F(KeyTypeAssessment, BothKeyTypesWithTheirRecordsAreValid) {
  const auto r = assess({record_311(ecdsa_), record_311(rsa_)}, address(ecdsa_, HandshakeKeyType::kEcdsa, &rsa_));
  EXPECT_EQ(r.status, DaneStatus::kValid);
  const auto& a = r.mx[0].addresses[0];
  EXPECT_TRUE(a.delivers);
  ASSERT_EQ(a.key_types.size(), 2u);
  EXPECT_EQ(a.key_types[0].key_type, HandshakeKeyType::kEcdsa);
  EXPECT_EQ(a.key_types[1].key_type, HandshakeKeyType::kRsa);
  EXPECT_TRUE(a.key_types[0].authenticated);
  EXPECT_TRUE(a.key_types[1].authenticated);
  // Each record is for the key of one key type: neither is stale.
  EXPECT_FALSE(r.mx[0].record_stale[0]);
  EXPECT_FALSE(r.mx[0].record_stale[1]);
  EXPECT_TRUE(r.mx[0].stale_groups.empty());
}

TEST_F(KeyTypeAssessment, TlsaForTheEcdsaKeyOnlyFailsTheRsaKeyTypeAndDegrades) {
  const auto r = assess({record_311(ecdsa_)}, address(ecdsa_, HandshakeKeyType::kEcdsa, &rsa_));
  EXPECT_EQ(r.status, DaneStatus::kDegraded);  // a sender offered ECDSA still delivers
  EXPECT_EQ(r.addresses_failing, 1);
  EXPECT_EQ(r.addresses_failing_one_key_type, 1);
  const auto& a = r.mx[0].addresses[0];
  EXPECT_FALSE(a.delivers);
  EXPECT_TRUE(a.some_key_type_delivers);
  EXPECT_TRUE(a.authenticated);  // the unrestricted handshake's chain
  EXPECT_EQ(a.result_type, DaneResultType::kTlsaInvalid);
  EXPECT_NE(a.message.find("rsa"), std::string::npos) << a.message;
  ASSERT_EQ(a.key_types.size(), 2u);
  EXPECT_TRUE(a.key_types[0].authenticated);
  EXPECT_FALSE(a.key_types[1].authenticated);
  EXPECT_EQ(a.key_types[1].result_type, DaneResultType::kTlsaInvalid);
}

TEST_F(KeyTypeAssessment, TheUnrestrictedKeyTypeFailingIsNamedByItsOwnResult) {
  const auto r = assess({record_311(ecdsa_)}, address(rsa_, HandshakeKeyType::kRsa, &ecdsa_));
  EXPECT_EQ(r.status, DaneStatus::kDegraded);
  const auto& a = r.mx[0].addresses[0];
  EXPECT_FALSE(a.delivers);
  EXPECT_TRUE(a.some_key_type_delivers);
  ASSERT_EQ(a.key_types.size(), 2u);
  EXPECT_EQ(a.key_types[0].key_type, HandshakeKeyType::kRsa);
  EXPECT_FALSE(a.key_types[0].authenticated);
  EXPECT_TRUE(a.key_types[1].authenticated);
}

TEST_F(KeyTypeAssessment, NoKeyTypeMatchingIsBroken) {
  const auto r = assess({testing::tlsa(std::string("3 1 1 ") + testing::kZeros32)},
                        address(ecdsa_, HandshakeKeyType::kEcdsa, &rsa_));
  EXPECT_EQ(r.status, DaneStatus::kBroken);
  EXPECT_FALSE(r.mx[0].addresses[0].some_key_type_delivers);
}

TEST_F(KeyTypeAssessment, OneKeyTypeOfferedIsJudgedByItAlone) {
  const auto r = assess({record_311(ecdsa_)}, address(ecdsa_, HandshakeKeyType::kEcdsa, nullptr));
  EXPECT_EQ(r.status, DaneStatus::kValid);
  const auto& a = r.mx[0].addresses[0];
  ASSERT_EQ(a.key_types.size(), 1u);
  EXPECT_EQ(a.key_types[0].key_type, HandshakeKeyType::kEcdsa);
}

}  // namespace
}  // namespace mailtls::dane
