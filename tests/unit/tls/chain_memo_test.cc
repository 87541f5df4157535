// What is worked out once about a presented chain and kept with it (chain_memo.h): the leaf's
// facts, and WebPKI verdicts per (verifier, host name, span between validity boundaries). The
// verifier counts the verifications it runs, so these tests see what was verified anew.

#include "probes/tls/chain_memo.h"

#include <gtest/gtest.h>

#include <thread>
#include <vector>

#include "probes/tls/webpki_verifier.h"
#include "tests/fakes/test_certs.h"

namespace mailtls::tls {
namespace {

using std::chrono::hours, std::chrono::seconds;

// A CA valid for years, a verifier that trusts it alone, and the time the test started.
class ChainMemoTest : public ::testing::Test {
 protected:
  void SetUp() override {
    testing::TestCertSpec ca_spec;
    ca_spec.not_before_offset = -hours(24 * 1000);
    ca_spec.not_after_offset = hours(24 * 3650);
    ca_ = testing::make_test_ca("Memo Test Root", ca_spec);
    verifier_ = make_verifier();
    now_ = std::chrono::system_clock::now();
  }

  std::shared_ptr<const WebPkiVerifier> make_verifier() const {
    TrustStoreConfig config;
    config.use_system_roots = false;
    config.extra_ca_der = {ca_.der()};
    auto created = WebPkiVerifier::create(config);
    EXPECT_TRUE(created.verifier) << created.error;
    return created.verifier;
  }

  // A leaf for mx.provider.example that expires `valid_for` after now.
  X509Chain chain(seconds valid_for = hours(24 * 90)) const {
    testing::TestCertSpec spec{.common_name = "mx.provider.example",
                               .dns_names = {"mx.provider.example"}};
    spec.not_after_offset = valid_for;
    const auto leaf = testing::make_test_leaf(spec, ca_);
    return X509Chain::parse({leaf.der(), ca_.der()});
  }

  testing::TestCert ca_;
  std::shared_ptr<const WebPkiVerifier> verifier_;
  SystemTime now_;
};

// The domains sharing one observation each hold a copy of its chain: one verification for all.
TEST_F(ChainMemoTest, CopiesOfAChainShareOneVerificationPerHostName) {
  const X509Chain observed = chain();
  for (int domain = 0; domain < 10; ++domain) {
    const X509Chain copy = observed;
    const auto v = verifier_->verify_once(copy, "mx.provider.example", now_);
    EXPECT_TRUE(v.ok) << v.error_text;
  }
  EXPECT_EQ(verifier_->verifications(), 1u);
}

// A domain with an MX host name of its own gets its own verification (and its own verdict).
TEST_F(ChainMemoTest, AnotherHostNameIsVerifiedOnItsOwn) {
  const X509Chain observed = chain();
  EXPECT_TRUE(verifier_->verify_once(observed, "mx.provider.example", now_).ok);
  const auto own = verifier_->verify_once(observed, "mail.own.example", now_);
  EXPECT_FALSE(own.ok);
  EXPECT_EQ(own.result_type, WebPkiResultType::kCertificateHostMismatch);
  EXPECT_EQ(verifier_->verifications(), 2u);
  EXPECT_TRUE(verifier_->verify_once(observed, "mx.provider.example", now_).ok);
  EXPECT_FALSE(verifier_->verify_once(observed, "mail.own.example", now_).ok);
  EXPECT_EQ(verifier_->verifications(), 2u);
}

// The same certificates from another handshake are another observation: verified on their own.
TEST_F(ChainMemoTest, AnotherHandshakesChainIsVerifiedOnItsOwn) {
  const X509Chain first = chain();
  const X509Chain second = X509Chain::parse(first.der());
  verifier_->verify_once(first, "mx.provider.example", now_);
  verifier_->verify_once(second, "mx.provider.example", now_);
  EXPECT_EQ(verifier_->verifications(), 2u);
}

// Crossing the leaf's notAfter changes the answer: the kept verdict is not used past it.
TEST_F(ChainMemoTest, CrossingTheLeafsExpiryIsVerifiedAnew) {
  const X509Chain observed = chain(hours(1));
  EXPECT_TRUE(verifier_->verify_once(observed, "mx.provider.example", now_).ok);
  EXPECT_TRUE(verifier_->verify_once(observed, "mx.provider.example", now_ + hours(1) - seconds(2)).ok);
  EXPECT_EQ(verifier_->verifications(), 1u);
  const auto later = verifier_->verify_once(observed, "mx.provider.example", now_ + hours(2));
  EXPECT_FALSE(later.ok);
  EXPECT_EQ(later.result_type, WebPkiResultType::kCertificateExpired);
  EXPECT_EQ(verifier_->verifications(), 2u);
  // And back before the expiry (a clock set back): verified anew, valid again.
  EXPECT_TRUE(verifier_->verify_once(observed, "mx.provider.example", now_).ok);
  EXPECT_EQ(verifier_->verifications(), 3u);
}

// A verdict of one trust store is never another's (a reload builds a new verifier).
TEST_F(ChainMemoTest, AnotherVerifierVerifiesOnItsOwn) {
  const X509Chain observed = chain();
  const auto other = make_verifier();
  verifier_->verify_once(observed, "mx.provider.example", now_);
  other->verify_once(observed, "mx.provider.example", now_);
  EXPECT_EQ(verifier_->verifications(), 1u);
  EXPECT_EQ(other->verifications(), 1u);
}

// A hostile MX set (many names for one observation) cannot grow the memo without bound.
TEST_F(ChainMemoTest, KeptVerdictsAreBounded) {
  const X509Chain observed = chain();
  for (std::size_t i = 0; i < ChainMemo::kMaxVerdicts + 5; ++i) {
    verifier_->verify_once(observed, "mx" + std::to_string(i) + ".provider.example", now_);
  }
  const auto before = verifier_->verifications();
  verifier_->verify_once(observed, "mx0.provider.example", now_);  // given up: verified anew
  EXPECT_EQ(verifier_->verifications(), before + 1);
  verifier_->verify_once(observed, "mx" + std::to_string(ChainMemo::kMaxVerdicts + 4) + ".provider.example", now_);
  EXPECT_EQ(verifier_->verifications(), before + 1);
}

TEST_F(ChainMemoTest, LeafFactsAreInspectedOnceForAllCopies) {
  const X509Chain observed = chain();
  const X509Chain copy = observed;
  const CertificateInspection& a = observed.leaf_facts();
  const CertificateInspection& b = copy.leaf_facts();
  EXPECT_EQ(&a, &b);
  ASSERT_TRUE(a);
  EXPECT_EQ(a->spki_sha256, inspect_x509(observed.leaf())->spki_sha256);
  EXPECT_FALSE(X509Chain().leaf_facts());
}

TEST_F(ChainMemoTest, DomainsOnManyThreadsShareOneVerification) {
  const X509Chain observed = chain();
  {
    std::vector<std::jthread> domains;
    for (int t = 0; t < 8; ++t) {
      domains.emplace_back([&, copy = observed] {
        for (int i = 0; i < 50; ++i) {
          EXPECT_TRUE(copy.leaf_facts());
          EXPECT_TRUE(verifier_->verify_once(copy, "mx.provider.example", now_).ok);
        }
      });
    }
  }
  // Threads that found no verdict yet may each have verified once, never more.
  EXPECT_GE(verifier_->verifications(), 1u);
  EXPECT_LE(verifier_->verifications(), 8u);
}

TEST(VerdictSpanTest, BoundedByTheValidityAroundTheTime) {
  testing::TestCertSpec spec;
  spec.not_before_offset = -hours(1);
  spec.not_after_offset = hours(1);
  const auto cert = testing::make_test_self_signed(spec);
  const std::time_t now = std::time(nullptr);
  const VerdictSpan span = verdict_span({cert.cert.get()}, now);
  const auto nb = std::chrono::system_clock::to_time_t(*certificate_time(X509_get0_notBefore(cert.cert.get())));
  const auto na = std::chrono::system_clock::to_time_t(*certificate_time(X509_get0_notAfter(cert.cert.get())));
  EXPECT_EQ(span.from, nb);
  EXPECT_EQ(span.until, na + 1);  // valid through notAfter's second
  EXPECT_TRUE(span.contains(na));
  EXPECT_FALSE(span.contains(na + 1));
  EXPECT_FALSE(span.contains(nb - 1));
  const VerdictSpan after = verdict_span({cert.cert.get()}, na + 10);
  EXPECT_EQ(after.from, na + 1);
  EXPECT_EQ(after.until, std::numeric_limits<std::time_t>::max());
}

}  // namespace
}  // namespace mailtls::tls
