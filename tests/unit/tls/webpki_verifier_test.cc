// WebPKI verdicts as an MTA-STS sender reaches them (docs/verdicts.md P9), with a CA and leaves
// generated in the test.

#include "probes/tls/webpki_verifier.h"

#include <gtest/gtest.h>
#include <openssl/x509_vfy.h>

#include <cstdio>
#include <thread>

#include "tests/fakes/test_certs.h"

namespace mailtls::tls {
namespace {

using std::chrono::hours;

class WebPkiVerifierTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    // Valid since long ago, so leaves can be checked at past times.
    testing::TestCertSpec ca_spec;
    ca_spec.not_before_offset = -hours(24 * 1000);
    ca_spec.not_after_offset = hours(24 * 3650);
    ca_ = new testing::TestCert(testing::make_test_ca("WebPKI Test Root", ca_spec));
    TrustStoreConfig config;
    config.use_system_roots = true;
    config.extra_ca_der = {ca_->der()};
    auto created = WebPkiVerifier::create(config);
    ASSERT_TRUE(created.verifier) << created.error;
    verifier_ = new std::shared_ptr<const WebPkiVerifier>(created.verifier);
  }
  static void TearDownTestSuite() {
    delete verifier_;
    delete ca_;
  }

  static DerChain chain_for(const testing::TestCertSpec& spec) {
    const auto leaf = testing::make_test_leaf(spec, *ca_);
    return {leaf.der(), ca_->der()};
  }
  // Every vector goes through both entry points: DER, and the chain as already parsed (what
  // the probe hands over after a handshake). They must agree.
  static WebPkiVerdict verify(const DerChain& chain, const std::string& host) {
    WebPkiVerdict from_der = (*verifier_)->verify(chain, host);
    const X509Chain parsed = X509Chain::parse(chain);
    if (parsed.size() == chain.size()) {
      const WebPkiVerdict from_x509 = (*verifier_)->verify(parsed, host);
      EXPECT_EQ(from_x509.ok, from_der.ok) << host;
      EXPECT_EQ(from_x509.x509_error, from_der.x509_error) << host;
      EXPECT_EQ(from_x509.error_depth, from_der.error_depth) << host;
    }
    return from_der;
  }

  static inline testing::TestCert* ca_ = nullptr;
  static inline std::shared_ptr<const WebPkiVerifier>* verifier_ = nullptr;
};

TEST_F(WebPkiVerifierTest, ValidChainAndName) {
  const auto v = verify(chain_for({.common_name = "mx1", .dns_names = {"mx1.example.com"}}),
                        "mx1.example.com");
  EXPECT_TRUE(v.ok) << v.error_text;
  EXPECT_EQ(v.x509_error, X509_V_OK);
  EXPECT_EQ(to_string(v.result_type), "ok");
}

TEST_F(WebPkiVerifierTest, NameIsCaseInsensitiveAndTrailingDotIgnored) {
  const auto chain = chain_for({.common_name = "mx1", .dns_names = {"mx1.example.com"}});
  EXPECT_TRUE(verify(chain, "MX1.Example.COM.").ok);
}

TEST_F(WebPkiVerifierTest, LeafOnlyIsEnoughWhenTheRootIsTrusted) {
  const auto leaf = testing::make_test_leaf({.common_name = "mx1", .dns_names = {"mx1.example.com"}}, *ca_);
  EXPECT_TRUE(verify({leaf.der()}, "mx1.example.com").ok);
}

// P9: SAN mx1.example.com on mx2.example.com → certificate-host-mismatch.
TEST_F(WebPkiVerifierTest, HostMismatch) {
  const auto v = verify(chain_for({.common_name = "mx1", .dns_names = {"mx1.example.com"}}),
                        "mx2.example.com");
  EXPECT_FALSE(v.ok);
  EXPECT_EQ(v.x509_error, X509_V_ERR_HOSTNAME_MISMATCH);
  EXPECT_EQ(to_string(v.result_type), "certificate-host-mismatch");
}

// P9: SAN DNS-ID required; a matching CN alone does not do.
TEST_F(WebPkiVerifierTest, CommonNameIsNeverConsulted) {
  const auto v = verify(chain_for({.common_name = "mx1.example.com"}), "mx1.example.com");
  EXPECT_EQ(v.result_type, WebPkiResultType::kCertificateHostMismatch);
}

// P9: expired → certificate-expired.
TEST_F(WebPkiVerifierTest, Expired) {
  const auto v = verify(chain_for({.common_name = "mx1",
                                   .dns_names = {"mx1.example.com"},
                                   .not_before_offset = -hours(24 * 400),
                                   .not_after_offset = -hours(24)}),
                        "mx1.example.com");
  EXPECT_EQ(v.x509_error, X509_V_ERR_CERT_HAS_EXPIRED);
  EXPECT_EQ(to_string(v.result_type), "certificate-expired");
  EXPECT_EQ(v.error_depth, 0);
}

TEST_F(WebPkiVerifierTest, VerificationTimeCanBeChosen) {
  const auto chain = chain_for({.common_name = "mx1",
                                .dns_names = {"mx1.example.com"},
                                .not_before_offset = -hours(24 * 400),
                                .not_after_offset = -hours(24 * 10)});
  const auto then = std::chrono::system_clock::now() - hours(24 * 30);
  EXPECT_TRUE((*verifier_)->verify(chain, "mx1.example.com", then).ok);
  EXPECT_FALSE((*verifier_)->verify(chain, "mx1.example.com").ok);
  // And a valid certificate is expired in its future.
  const auto fresh = chain_for({.common_name = "mx1", .dns_names = {"mx1.example.com"}});
  const auto later = std::chrono::system_clock::now() + hours(24 * 365);
  EXPECT_EQ((*verifier_)->verify(fresh, "mx1.example.com", later).result_type,
            WebPkiResultType::kCertificateExpired);
}

// P9: self-signed backup MX → certificate-not-trusted.
TEST_F(WebPkiVerifierTest, SelfSignedIsNotTrusted) {
  const auto self = testing::make_test_self_signed({.common_name = "backup", .dns_names = {"backup.example.com"}});
  const auto v = verify({self.der()}, "backup.example.com");
  EXPECT_EQ(v.x509_error, X509_V_ERR_DEPTH_ZERO_SELF_SIGNED_CERT);
  EXPECT_EQ(to_string(v.result_type), "certificate-not-trusted");
}

TEST_F(WebPkiVerifierTest, UnknownCaIsNotTrusted) {
  const auto other_ca = testing::make_test_ca("Someone Else");
  const auto leaf = testing::make_test_leaf({.common_name = "mx1", .dns_names = {"mx1.example.com"}}, other_ca);
  EXPECT_EQ(verify({leaf.der()}, "mx1.example.com").result_type,
            WebPkiResultType::kCertificateNotTrusted);
  // Presenting the untrusted root does not help.
  EXPECT_EQ(verify({leaf.der(), other_ca.der()}, "mx1.example.com").result_type,
            WebPkiResultType::kCertificateNotTrusted);
}

TEST_F(WebPkiVerifierTest, IntermediateFromThePresentedChain) {
  testing::TestCertSpec inter_spec{.common_name = "Intermediate", .is_ca = true};
  inter_spec.not_after_offset = hours(24 * 365);
  const auto intermediate = testing::make_test_leaf(inter_spec, *ca_);
  const auto leaf = testing::make_test_leaf({.common_name = "mx1", .dns_names = {"mx1.example.com"}}, intermediate);
  EXPECT_TRUE(verify({leaf.der(), intermediate.der()}, "mx1.example.com").ok);
  // Without the intermediate the chain cannot be built.
  EXPECT_EQ(verify({leaf.der()}, "mx1.example.com").result_type,
            WebPkiResultType::kCertificateNotTrusted);
}

// RFC 6125 wildcards (docs/verdicts.md P8/T9 vectors).
TEST_F(WebPkiVerifierTest, WildcardOnlyAsTheWholeLeftMostLabelMatchingOneLabel) {
  const auto wildcard = chain_for({.common_name = "w", .dns_names = {"*.example.com"}});
  EXPECT_TRUE(verify(wildcard, "mx1.example.com").ok);
  EXPECT_FALSE(verify(wildcard, "a.b.example.com").ok);
  EXPECT_FALSE(verify(wildcard, "example.com").ok);
  const auto partial = chain_for({.common_name = "p", .dns_names = {"smtp*.example.com"}});
  EXPECT_EQ(verify(partial, "smtp1.example.com").result_type,
            WebPkiResultType::kCertificateHostMismatch);
}

TEST_F(WebPkiVerifierTest, ServerAuthPurposeIsChecked) {
  testing::TestCertSpec spec{.common_name = "mx1", .dns_names = {"mx1.example.com"}};
  spec.extended_key_usage = "";  // no EKU: any purpose
  EXPECT_TRUE(verify(chain_for(spec), "mx1.example.com").ok);
  spec.extended_key_usage = "clientAuth";
  const auto v = verify(chain_for(spec), "mx1.example.com");
  EXPECT_EQ(v.x509_error, X509_V_ERR_INVALID_PURPOSE);
  EXPECT_EQ(v.result_type, WebPkiResultType::kValidationFailure);
}

TEST_F(WebPkiVerifierTest, UnusableInputIsAValidationFailure) {
  EXPECT_EQ(verify({}, "mx1.example.com").result_type, WebPkiResultType::kValidationFailure);
  EXPECT_EQ(verify({{0x01, 0x02}}, "mx1.example.com").result_type,
            WebPkiResultType::kValidationFailure);
  const auto chain = chain_for({.common_name = "mx1", .dns_names = {"mx1.example.com"}});
  EXPECT_EQ(verify(chain, "").result_type, WebPkiResultType::kValidationFailure);
}

TEST_F(WebPkiVerifierTest, SharedAcrossThreads) {
  const auto good = chain_for({.common_name = "mx1", .dns_names = {"mx1.example.com"}});
  std::atomic<int> ok{0};
  {
    std::vector<std::jthread> threads;
    for (int t = 0; t < 8; ++t) {
      threads.emplace_back([&] {
        for (int i = 0; i < 50; ++i) ok += verify(good, "mx1.example.com").ok ? 1 : 0;
      });
    }
  }
  EXPECT_EQ(ok.load(), 400);
}

TEST(WebPkiVerifierCreate, ExtraCaFileAndUnreadableFile) {
  const auto ca = testing::make_test_ca("File Root");
  const std::string path = std::string(MAILTLS_BINARY_DIR) + "/webpki_test_ca.pem";
  testing::write_text_file(path, ca.pem());
  TrustStoreConfig config;
  config.use_system_roots = false;
  config.extra_ca_files = {path};
  auto created = WebPkiVerifier::create(config);
  ASSERT_TRUE(created.verifier) << created.error;
  const auto leaf = testing::make_test_leaf({.common_name = "mx", .dns_names = {"mx.example.org"}}, ca);
  EXPECT_TRUE(created.verifier->verify({leaf.der()}, "mx.example.org").ok);
  std::remove(path.c_str());

  config.extra_ca_files = {"/nonexistent/ca.pem"};
  auto bad = WebPkiVerifier::create(config);
  EXPECT_FALSE(bad.verifier);
  EXPECT_NE(bad.error.find("/nonexistent/ca.pem"), std::string::npos);
}

TEST(WebPkiClassification, Rfc8460ResultTypes) {
  EXPECT_EQ(classify_x509_error(X509_V_OK), WebPkiResultType::kOk);
  EXPECT_EQ(classify_x509_error(X509_V_ERR_CERT_HAS_EXPIRED), WebPkiResultType::kCertificateExpired);
  EXPECT_EQ(classify_x509_error(X509_V_ERR_HOSTNAME_MISMATCH), WebPkiResultType::kCertificateHostMismatch);
  EXPECT_EQ(classify_x509_error(X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY),
            WebPkiResultType::kCertificateNotTrusted);
  EXPECT_EQ(classify_x509_error(X509_V_ERR_CERT_NOT_YET_VALID), WebPkiResultType::kValidationFailure);
}

}  // namespace
}  // namespace mailtls::tls
