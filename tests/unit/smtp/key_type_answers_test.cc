// The answers of key-type-limited handshakes (T14) kept between probes: reused within
// smtp.key_type_recheck_interval while the first handshake presents the same chain, asked again
// after it, at once when that chain changed, and never kept when they say nothing about the
// server or when the interval is 0.

#include "probes/smtp/key_type_answers.h"

#include <gtest/gtest.h>

#include <chrono>

#include "tests/fakes/test_certs.h"

namespace mailtls::smtp {
namespace {

using std::chrono::minutes;

class KeyTypeAnswersTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ca_ = std::make_unique<testing::TestCert>(testing::make_test_ca("Answers Test Root"));
    ecdsa_ = std::make_unique<testing::TestCert>(
        testing::make_test_leaf({.common_name = "mx.example", .serial = 2}, *ca_));
    renewed_ = std::make_unique<testing::TestCert>(
        testing::make_test_leaf({.common_name = "mx.example", .serial = 3}, *ca_));
  }

  StarttlsResult first(const testing::TestCert& leaf) const {
    StarttlsResult r;
    r.starttls_ok = true;
    r.key_type = tls::HandshakeKeyType::kEcdsa;
    r.chain = tls::X509Chain::parse({leaf.der(), ca_->der()});
    return r;
  }

  static StarttlsResult refused() {
    StarttlsResult r;
    r.key_type_limit = tls::HandshakeKeyType::kRsa;
    r.failure = StarttlsFailure::kKeyTypeNotOffered;
    r.message = "no certificate of that type";
    return r;
  }

  const ObservationKey key_{"192.0.2.1", 25, "mx.example", "rsa"};
  const SystemTime t0_ = SystemTime(std::chrono::hours(500'000));
  std::unique_ptr<testing::TestCert> ca_;
  std::unique_ptr<testing::TestCert> ecdsa_;
  std::unique_ptr<testing::TestCert> renewed_;
};

TEST_F(KeyTypeAnswersTest, ReusedWithinTheIntervalWithItsTime) {
  KeyTypeAnswers answers(minutes(60));
  answers.keep(key_, first(*ecdsa_), refused(), t0_);
  const auto kept = answers.find(key_, first(*ecdsa_), t0_ + minutes(59));
  ASSERT_TRUE(kept);
  EXPECT_EQ(kept->checked_at, t0_);
  EXPECT_EQ(kept->limited.failure, StarttlsFailure::kKeyTypeNotOffered);
  EXPECT_EQ(kept->limited.key_type_limit, tls::HandshakeKeyType::kRsa);
}

TEST_F(KeyTypeAnswersTest, AskedAgainAfterTheInterval) {
  KeyTypeAnswers answers(minutes(60));
  answers.keep(key_, first(*ecdsa_), refused(), t0_);
  EXPECT_FALSE(answers.find(key_, first(*ecdsa_), t0_ + minutes(61)));
  // A clock set back before the answer: asked again too.
  EXPECT_FALSE(answers.find(key_, first(*ecdsa_), t0_ - minutes(1)));
}

TEST_F(KeyTypeAnswersTest, AskedAgainAtOnceWhenTheFirstChainChanged) {
  KeyTypeAnswers answers(minutes(60));
  answers.keep(key_, first(*ecdsa_), refused(), t0_);
  EXPECT_FALSE(answers.find(key_, first(*renewed_), t0_ + minutes(1)));
  // The same leaf with another chain behind it is a change too.
  auto leaf_only = first(*ecdsa_);
  leaf_only.chain = tls::X509Chain::parse({ecdsa_->der()});
  EXPECT_FALSE(answers.find(key_, leaf_only, t0_ + minutes(1)));
  // Another endpoint or key type asked has its own answer.
  EXPECT_FALSE(answers.find({"192.0.2.1", 25, "other.example", "rsa"}, first(*ecdsa_), t0_));
  EXPECT_TRUE(answers.find(key_, first(*ecdsa_), t0_ + minutes(1)));
}

TEST_F(KeyTypeAnswersTest, AnswersThatSayNothingAboutTheServerAreNotKept) {
  KeyTypeAnswers answers(minutes(60));
  StarttlsResult lost = refused();
  lost.failure = StarttlsFailure::kConnectionClosed;
  answers.keep(key_, first(*ecdsa_), lost, t0_);
  EXPECT_FALSE(answers.find(key_, first(*ecdsa_), t0_));
  EXPECT_EQ(answers.size(), 0u);
}

TEST_F(KeyTypeAnswersTest, IntervalZeroKeepsNothing) {
  KeyTypeAnswers answers(minutes(0));
  answers.keep(key_, first(*ecdsa_), refused(), t0_);
  EXPECT_FALSE(answers.find(key_, first(*ecdsa_), t0_));
  EXPECT_EQ(answers.size(), 0u);
}

}  // namespace
}  // namespace mailtls::smtp
