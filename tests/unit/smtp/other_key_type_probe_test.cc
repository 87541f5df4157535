// docs/verdicts.md T14: a handshake limited to one key type against scripted servers with one
// certificate (ECDSA or RSA) and with two (both), and the cheap "other key type" probe.

#include "probes/smtp/other_key_type_probe.h"

#include <gtest/gtest.h>

#include "tests/fakes/smtp_test_server.h"
#include "tests/fakes/test_certs.h"
#include "tests/unit/smtp/test_probe_settings.h"

namespace mailtls::smtp {
namespace {

using testing::SmtpServerScript;
using testing::SmtpTestServer;
using testing::TestKeyType;
using tls::HandshakeKeyType;
using std::chrono::seconds;

class OtherKeyTypeProbeTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    ca_ = new testing::TestCert(testing::make_test_ca("Key Type Test Root"));
    ecdsa_ = new testing::TestCert(testing::make_test_leaf(
        {.common_name = "mx1.example.com", .dns_names = {"mx1.example.com"}, .key_type = TestKeyType::kEcP256, .serial = 2},
        *ca_));
    rsa_ = new testing::TestCert(testing::make_test_leaf(
        {.common_name = "mx1.example.com", .dns_names = {"mx1.example.com"}, .key_type = TestKeyType::kRsa2048, .serial = 3},
        *ca_));
  }
  static void TearDownTestSuite() {
    delete rsa_;
    delete ecdsa_;
    delete ca_;
  }

  static SmtpServerScript script(const testing::TestCert* first, const testing::TestCert* second) {
    SmtpServerScript s;
    s.cert_chain_pem = first->pem() + ca_->pem();
    s.key_pem = first->key_pem();
    if (second != nullptr) {
      s.second_cert_chain_pem = second->pem() + ca_->pem();
      s.second_key_pem = second->key_pem();
    }
    return s;
  }

  static StarttlsSettings settings(std::uint16_t port) { return testing::loopback_probe_settings(port); }

  static Deadline deadline() { return Deadline::after(seconds(10)); }

  static inline testing::TestCert* ca_ = nullptr;
  static inline testing::TestCert* ecdsa_ = nullptr;
  static inline testing::TestCert* rsa_ = nullptr;
  TcpConnector connector_;
};

// What the domain probe does for every key type (probes/domain/observe.cc): ask for the other key
// type after an unrestricted handshake, and read the limited handshake's answer.
struct OtherKeyType {
  tls::HandshakeKeyType key_type;
  StarttlsResult result;
  KeyTypeOffer offer;
};
std::optional<OtherKeyType> ask_other_key_type(const StarttlsProber& prober, const StarttlsResult& first,
                                               Deadline deadline) {
  const auto ask = other_key_type_to_ask(first);
  if (!ask) return std::nullopt;
  auto result = prober.probe(first.address, first.sni_name, deadline, *ask);
  const auto offer = key_type_offer(result, *ask);
  return OtherKeyType{*ask, std::move(result), offer};
}

TEST_F(OtherKeyTypeProbeTest, ALimitedHandshakeGetsThatKeyTypesChainFromADualCertificateServer) {
  SmtpTestServer server(script(ecdsa_, rsa_));
  StarttlsProber prober(settings(server.port()), connector_);
  const StarttlsResult e = prober.probe(server.address(), "mx1.example.com", deadline(), HandshakeKeyType::kEcdsa);
  ASSERT_TRUE(e.ok()) << e.message;
  EXPECT_EQ(e.key_type, HandshakeKeyType::kEcdsa);
  EXPECT_EQ(e.key_type_limit, HandshakeKeyType::kEcdsa);
  EXPECT_EQ(e.chain.der().front(), ecdsa_->der());
  const StarttlsResult r = prober.probe(server.address(), "mx1.example.com", deadline(), HandshakeKeyType::kRsa);
  ASSERT_TRUE(r.ok()) << r.message;
  EXPECT_EQ(r.key_type, HandshakeKeyType::kRsa);
  EXPECT_EQ(r.chain.der().front(), rsa_->der());
}

TEST_F(OtherKeyTypeProbeTest, ADualCertificateServerOffersTheOtherKeyType) {
  SmtpTestServer server(script(ecdsa_, rsa_));
  StarttlsProber prober(settings(server.port()), connector_);
  const StarttlsResult first = prober.probe(server.address(), "mx1.example.com", deadline());
  ASSERT_TRUE(first.ok()) << first.message;
  ASSERT_TRUE(first.key_type);
  EXPECT_FALSE(first.key_type_limit);
  const auto other = ask_other_key_type(prober, first, deadline());
  ASSERT_TRUE(other);
  EXPECT_EQ(other->key_type, tls::other_key_type(*first.key_type));
  EXPECT_EQ(other->offer, KeyTypeOffer::kOffered) << other->result.message;
  EXPECT_EQ(other->result.key_type, other->key_type);
  EXPECT_NE(other->result.chain.der().front(), first.chain.der().front());
  EXPECT_EQ(server.connections_accepted(), 2);
}

TEST_F(OtherKeyTypeProbeTest, AOneCertificateServerDoesNotOfferTheOtherKeyType) {
  for (const auto& [cert, type] : {std::pair{ecdsa_, HandshakeKeyType::kEcdsa}, std::pair{rsa_, HandshakeKeyType::kRsa}}) {
    SCOPED_TRACE(std::string(tls::to_string(type)) + " only");
    SmtpTestServer server(script(cert, nullptr));
    StarttlsProber prober(settings(server.port()), connector_);
    const StarttlsResult first = prober.probe(server.address(), "mx1.example.com", deadline());
    ASSERT_TRUE(first.ok()) << first.message;
    EXPECT_EQ(first.key_type, type);
    const auto other = ask_other_key_type(prober, first, deadline());
    ASSERT_TRUE(other);
    EXPECT_EQ(other->key_type, tls::other_key_type(type));
    EXPECT_EQ(other->offer, KeyTypeOffer::kNotOffered) << other->result.message;
    EXPECT_EQ(other->result.failure, StarttlsFailure::kKeyTypeNotOffered);
    EXPECT_EQ(to_string(other->result.failure), "key_type_not_offered");
  }
}

TEST_F(OtherKeyTypeProbeTest, NothingIsAskedWithoutACompletedHandshake) {
  SmtpServerScript s = script(ecdsa_, rsa_);
  s.ehlo_lines = {"mx.test", "PIPELINING"};  // no STARTTLS
  SmtpTestServer server(s);
  StarttlsProber prober(settings(server.port()), connector_);
  const StarttlsResult first = prober.probe(server.address(), "mx1.example.com", deadline());
  EXPECT_EQ(first.failure, StarttlsFailure::kStarttlsNotOffered);
  EXPECT_FALSE(ask_other_key_type(prober, first, deadline()));
  EXPECT_EQ(server.connections_accepted(), 1);
}

TEST_F(OtherKeyTypeProbeTest, AnUnreachableSecondHandshakeIsUnknownNotNotOffered) {
  StarttlsResult first;
  first.address = "127.0.0.1";
  first.sni_name = "mx1.example.com";
  first.starttls_ok = true;
  first.key_type = HandshakeKeyType::kEcdsa;
  // Nothing listens on the port of a server that has just gone.
  std::uint16_t port = 0;
  {
    SmtpTestServer gone(script(ecdsa_, nullptr));
    port = gone.port();
  }
  StarttlsProber prober(settings(port), connector_);
  const auto other = ask_other_key_type(prober, first, deadline());
  ASSERT_TRUE(other);
  EXPECT_EQ(other->offer, KeyTypeOffer::kUnknown);
  EXPECT_EQ(other->result.failure, StarttlsFailure::kConnectRefused);
}

}  // namespace
}  // namespace mailtls::smtp
