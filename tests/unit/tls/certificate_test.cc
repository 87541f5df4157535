#include "probes/tls/certificate.h"

#include <gtest/gtest.h>

#include "probes/base/sha256.h"
#include "tests/fakes/test_certs.h"

namespace mailtls::tls {
namespace {

using std::chrono::hours;

TEST(Certificate, FactsOfAnEcLeaf) {
  const auto ca = testing::make_test_ca("Facts Root");
  const auto leaf = testing::make_test_leaf({.common_name = "mx1.example.com",
                                             .dns_names = {"mx1.example.com", "*.example.net"},
                                             .serial = 0x1234ab},
                                            ca);
  const auto der = leaf.der();
  const CertificateInspection got = inspect_certificate(der);
  ASSERT_TRUE(got.facts) << got.error;
  const CertificateFacts& f = *got.facts;
  EXPECT_EQ(f.subject, "CN=mx1.example.com");
  EXPECT_EQ(f.issuer, "CN=Facts Root");
  EXPECT_EQ(f.dns_names, (std::vector<std::string>{"mx1.example.com", "*.example.net"}));
  EXPECT_EQ(f.key_type, KeyType::kEc);
  EXPECT_EQ(f.key_bits, 256);
  EXPECT_EQ(f.key_curve, "prime256v1");
  EXPECT_EQ(f.serial_hex, "1234ab");
  EXPECT_FALSE(f.self_issued);
  // Validity as generated: about a day ago to about 90 days ahead.
  const auto now = std::chrono::system_clock::now();
  EXPECT_LT(std::chrono::abs(f.not_before - (now - hours(24))), std::chrono::minutes(5));
  EXPECT_LT(std::chrono::abs(f.not_after - (now + hours(24 * 90))), std::chrono::minutes(5));
  // SHA-256 of the whole DER, and of the DER SubjectPublicKeyInfo computed independently.
  EXPECT_EQ(f.cert_sha256, sha256_hex(der));
  unsigned char* spki = nullptr;
  const int len = i2d_PUBKEY(leaf.key.get(), &spki);
  ASSERT_GT(len, 0);
  EXPECT_EQ(f.spki_sha256, sha256_hex({spki, static_cast<std::size_t>(len)}));
  OPENSSL_free(spki);
  EXPECT_EQ(f.spki_sha256.size(), 64u);
  EXPECT_EQ(f.spki_sha256.find_first_not_of("0123456789abcdef"), std::string::npos);
}

TEST(Certificate, RsaKeyAndSelfSigned) {
  const auto cert = testing::make_test_self_signed(
      {.common_name = "backup.example.com", .key_type = testing::TestKeyType::kRsa2048});
  const auto got = inspect_certificate(cert.der());
  ASSERT_TRUE(got.facts) << got.error;
  EXPECT_EQ(got.facts->key_type, KeyType::kRsa);
  EXPECT_EQ(got.facts->key_bits, 2048);
  EXPECT_TRUE(got.facts->self_issued);
  EXPECT_TRUE(got.facts->dns_names.empty());
  EXPECT_EQ(to_string(got.facts->key_type), "RSA");
}

TEST(Certificate, Ed25519Key) {
  const auto cert = testing::make_test_self_signed(
      {.common_name = "ed.example.com", .key_type = testing::TestKeyType::kEd25519});
  const auto got = inspect_certificate(cert.der());
  ASSERT_TRUE(got.facts) << got.error;
  EXPECT_EQ(got.facts->key_type, KeyType::kEd25519);
}

TEST(Certificate, Rfc2253NamesKeepUtf8AndEscapeSpecials) {
  const auto cert = testing::make_test_self_signed({.common_name = "Müller, Mail+Relay"});
  const auto got = inspect_certificate(cert.der());
  ASSERT_TRUE(got.facts) << got.error;
  EXPECT_EQ(got.facts->subject, "CN=Müller\\, Mail\\+Relay");
}

TEST(Certificate, ExpiredCertificateStillInspects) {
  const auto cert = testing::make_test_self_signed(
      {.common_name = "old", .not_before_offset = -hours(24 * 400), .not_after_offset = -hours(24 * 30)});
  const auto got = inspect_certificate(cert.der());
  ASSERT_TRUE(got.facts) << got.error;
  EXPECT_LT(got.facts->not_after, std::chrono::system_clock::now());
}

TEST(Certificate, BadDerIsAnErrorResult) {
  EXPECT_FALSE(inspect_certificate({}).facts);
  const std::vector<std::uint8_t> garbage = {0x30, 0x82, 0x10, 0x00, 0x01, 0x02};
  const auto got = inspect_certificate(garbage);
  EXPECT_FALSE(got.facts);
  EXPECT_FALSE(got.error.empty());
  // A valid certificate with trailing bytes is not exactly one certificate.
  auto der = testing::make_test_self_signed({.common_name = "x"}).der();
  auto truncated = der;
  truncated.resize(der.size() / 2);
  EXPECT_FALSE(inspect_certificate(truncated).facts);
  der.push_back(0);
  EXPECT_FALSE(inspect_certificate(der).facts);
  const std::vector<std::uint8_t> huge(kMaxCertificateDerBytes + 1, 0x30);
  EXPECT_NE(inspect_certificate(huge).error.find("exceeds"), std::string::npos);
}

TEST(Certificate, ParsedCertificateGivesTheSameFactsAsItsDer) {
  const auto ca = testing::make_test_ca("Facts Root");
  const auto leaf = testing::make_test_leaf(
      {.common_name = "mx1.example.com", .dns_names = {"mx1.example.com"}, .serial = 77}, ca);
  const auto from_der = inspect_certificate(leaf.der());
  X509Ptr parsed = parse_certificate_der(leaf.der());
  ASSERT_TRUE(parsed);
  const auto from_x509 = inspect_x509(parsed.get());
  ASSERT_TRUE(from_der.facts && from_x509.facts) << from_der.error << from_x509.error;
  const CertificateFacts& a = *from_der.facts;
  const CertificateFacts& b = *from_x509.facts;
  EXPECT_EQ(a.subject, b.subject);
  EXPECT_EQ(a.issuer, b.issuer);
  EXPECT_EQ(a.dns_names, b.dns_names);
  EXPECT_EQ(a.not_before, b.not_before);
  EXPECT_EQ(a.not_after, b.not_after);
  EXPECT_EQ(a.spki_sha256, b.spki_sha256);
  EXPECT_EQ(b.cert_sha256, sha256_hex(leaf.der()));  // the bytes as presented
  EXPECT_EQ(a.serial_hex, b.serial_hex);
  EXPECT_EQ(a.key_curve, b.key_curve);
  EXPECT_FALSE(inspect_x509(nullptr).facts);
}

}  // namespace
}  // namespace mailtls::tls
