// TLSA matching against presented chains: the W4 table of STANDARDS.md §9 (verified there
// against OpenSSL's own DANE code), with certificates made in the test.

#include "probes/domain/tlsa_chain_match.h"

#include <gtest/gtest.h>
#include <openssl/evp.h>
#include <openssl/pem.h>

#include "tests/fakes/test_certs.h"

namespace mailtls::domain {
namespace {

using mailtls::testing::make_test_ca;
using mailtls::testing::make_test_leaf;
using mailtls::testing::TestCert;
using mailtls::testing::TestCertSpec;

std::vector<std::uint8_t> spki_digest(const TestCert& c, const EVP_MD* md) {
  unsigned char* der = nullptr;
  int n = i2d_X509_PUBKEY(X509_get_X509_PUBKEY(c.cert.get()), &der);
  unsigned char out[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  EVP_Digest(der, static_cast<size_t>(n), out, &len, md, nullptr);
  OPENSSL_free(der);
  return {out, out + len};
}

dns::TlsaRecord rec(int u, int s, int m, std::vector<std::uint8_t> data) {
  return dns::TlsaRecord{static_cast<std::uint8_t>(u), static_cast<std::uint8_t>(s),
                         static_cast<std::uint8_t>(m), std::move(data)};
}

class ChainMatch : public ::testing::Test {
 protected:
  ChainMatch()
      : ca_(make_test_ca("Example Test CA")),
        leaf_(make_test_leaf(TestCertSpec{"mx1.example.com", {"mx1.example.com"}}, ca_)) {}
  tls::DerChain chain() const { return {leaf_.der(), ca_.der()}; }
  std::vector<std::uint8_t> leaf311() const { return spki_digest(leaf_, EVP_sha256()); }
  std::vector<std::uint8_t> ca211() const { return spki_digest(ca_, EVP_sha256()); }
  SystemTime now() const { return std::chrono::system_clock::now(); }

  TestCert ca_, leaf_;
};

TEST_F(ChainMatch, DaneEeGood) {
  auto m = match_chain(chain(), {rec(3, 1, 1, leaf311())}, {"mx1.example.com"}, now());
  EXPECT_TRUE(m.authenticated);
  EXPECT_TRUE(m.records[0].authenticates);
  EXPECT_EQ(m.result_type, "");
}

TEST_F(ChainMatch, DaneEeIgnoresNamesAndExpiry) {
  // Base domain other than the certificate's name: DANE-EE does no name check (T8).
  EXPECT_TRUE(match_chain(chain(), {rec(3, 1, 1, leaf311())}, {"other.example.net"}, now()).authenticated);
  TestCertSpec expired{"mx1.example.com", {"mx1.example.com"}, -std::chrono::hours(24 * 400), -std::chrono::hours(24 * 30)};
  auto old = make_test_leaf(expired, ca_);
  EXPECT_TRUE(match_chain({old.der()}, {rec(3, 1, 1, spki_digest(old, EVP_sha256()))}, {"mx1.example.com"}, now()).authenticated);
}

TEST_F(ChainMatch, DaneTaWithNameCheck) {
  auto ok = match_chain(chain(), {rec(2, 1, 1, ca211())}, {"mx1.example.com"}, now());
  EXPECT_TRUE(ok.authenticated);
  auto wrong = match_chain(chain(), {rec(2, 1, 1, ca211())}, {"other.example.net"}, now());
  EXPECT_FALSE(wrong.authenticated);
  EXPECT_TRUE(wrong.records[0].data_matches);
  EXPECT_EQ(wrong.result_type, "certificate-host-mismatch");
}

TEST_F(ChainMatch, DaneTaNeedsTheAnchorInTheChain) {
  auto m = match_chain({leaf_.der()}, {rec(2, 1, 1, ca211())}, {"mx1.example.com"}, now());
  EXPECT_FALSE(m.authenticated);
  EXPECT_EQ(m.result_type, "tlsa-invalid");  // B3: cert.pem instead of fullchain.pem
}

TEST_F(ChainMatch, DaneTaEnforcesExpiry) {
  TestCertSpec expired{"mx1.example.com", {"mx1.example.com"}, -std::chrono::hours(24 * 400), -std::chrono::hours(24 * 30)};
  auto old = make_test_leaf(expired, ca_);
  auto m = match_chain({old.der(), ca_.der()}, {rec(2, 1, 1, ca211())}, {"mx1.example.com"}, now());
  EXPECT_FALSE(m.authenticated);
  EXPECT_EQ(m.result_type, "certificate-expired");
}

TEST_F(ChainMatch, WrongDigestIsTlsaInvalid) {
  auto m = match_chain(chain(), {rec(3, 1, 1, std::vector<std::uint8_t>(32, 0))}, {"mx1.example.com"}, now());
  EXPECT_FALSE(m.authenticated);
  EXPECT_EQ(m.result_type, "tlsa-invalid");
}

TEST_F(ChainMatch, DigestAgilityPrefersSha512) {
  // A good 3 1 1 beside a wrong 3 1 2 fails, as a sender using OpenSSL fails (T10, B18).
  auto m = match_chain(chain(), {rec(3, 1, 1, leaf311()), rec(3, 1, 2, std::vector<std::uint8_t>(64, 0))},
                       {"mx1.example.com"}, now());
  EXPECT_FALSE(m.authenticated);
  EXPECT_FALSE(m.records[0].counts);
  EXPECT_TRUE(m.records[0].data_matches);
  // A correct 3 1 2 authenticates.
  auto good = match_chain(chain(), {rec(3, 1, 2, spki_digest(leaf_, EVP_sha512()))}, {"x"}, now());
  EXPECT_TRUE(good.authenticated);
}

TEST_F(ChainMatch, StaleEeButGoodTaStillAuthenticates) {
  auto m = match_chain(chain(), {rec(3, 1, 1, std::vector<std::uint8_t>(32, 0)), rec(2, 1, 1, ca211())},
                       {"mx1.example.com"}, now());
  EXPECT_TRUE(m.authenticated);
  EXPECT_FALSE(m.records[0].authenticates);
  EXPECT_TRUE(m.records[1].authenticates);
}

TEST_F(ChainMatch, UnusableRecordsNeverAuthenticate) {
  auto m = match_chain(chain(), {rec(1, 1, 1, leaf311()), rec(3, 1, 1, {0xab, 0xcd}), rec(4, 1, 1, leaf311())},
                       {"mx1.example.com"}, now());
  EXPECT_FALSE(m.authenticated);
  for (const auto& r : m.records) EXPECT_FALSE(r.usable);
}

TEST_F(ChainMatch, SelectorZeroAndFullData) {
  const auto der = leaf_.der();
  EXPECT_TRUE(match_chain(chain(), {rec(3, 0, 0, der)}, {"x"}, now()).authenticated);
  unsigned char out[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  EVP_Digest(der.data(), der.size(), out, &len, EVP_sha256(), nullptr);
  EXPECT_TRUE(match_chain(chain(), {rec(3, 0, 1, {out, out + len})}, {"x"}, now()).authenticated);
}

TEST(ChainMatchW1, FixedKeyDigestsFromStandards) {
  // STANDARDS.md §9 W1: the SPKI SHA-256 of the fixed test leaf key.
  const char* pem =
      "-----BEGIN PRIVATE KEY-----\n"
      "MIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQgKAVU7LTgKXEcdrv4\n"
      "novjC/Hn/+RSFVYmzyeiqf5PCjChRANCAAQqBbAClGwUUg70BNY/EyHsP4G7zeiz\n"
      "rO1lCTdacfTCaAYlrtUOwIG/YsJks/NtyLv92yUGCsSS7zcouzGsuQpM\n"
      "-----END PRIVATE KEY-----\n";
  BioPtr bio(BIO_new_mem_buf(pem, -1));
  EvpPkeyPtr key(PEM_read_bio_PrivateKey(bio.get(), nullptr, nullptr, nullptr));
  ASSERT_TRUE(key);
  unsigned char* der = nullptr;
  int n = i2d_PUBKEY(key.get(), &der);
  unsigned char out[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  EVP_Digest(der, static_cast<size_t>(n), out, &len, EVP_sha256(), nullptr);
  OPENSSL_free(der);
  std::string hex;
  for (unsigned i = 0; i < len; ++i) {
    char b[3];
    std::snprintf(b, sizeof b, "%02x", out[i]);
    hex += b;
  }
  EXPECT_EQ(hex, "000c701618c4d3b00f049424c49cb81c5ce2f78c164ca8c7dac46c360e994ee3");
}

}  // namespace
}  // namespace mailtls::domain
