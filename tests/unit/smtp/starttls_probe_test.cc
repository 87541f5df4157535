// The STARTTLS probe against a scripted SMTP server on loopback: the good path with a real
// OpenSSL handshake, and each hostile server ending in its own failure kind within the timeout.

#include "probes/smtp/starttls_probe.h"

#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <algorithm>

#include "tests/fakes/smtp_test_server.h"
#include "tests/fakes/test_certs.h"
#include "tests/unit/smtp/test_probe_settings.h"

namespace mailtls::smtp {
namespace {

using testing::SmtpServerMode;
using testing::SmtpServerScript;
using testing::SmtpTestServer;
using std::chrono::milliseconds;
using std::chrono::seconds;

class StarttlsProbeTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    ca_ = new testing::TestCert(testing::make_test_ca("Probe Test Root"));
    leaf_ = new testing::TestCert(testing::make_test_leaf(
        {.common_name = "mx1.example.com", .dns_names = {"mx1.example.com"}}, *ca_));
  }
  static void TearDownTestSuite() {
    delete leaf_;
    delete ca_;
  }

  static SmtpServerScript script(SmtpServerMode mode = SmtpServerMode::kNormal) {
    SmtpServerScript s;
    s.mode = mode;
    s.cert_chain_pem = leaf_->pem() + ca_->pem();
    s.key_pem = leaf_->key_pem();
    return s;
  }

  static StarttlsSettings settings(std::uint16_t port) { return testing::loopback_probe_settings(port); }

  StarttlsResult probe(const SmtpTestServer& server, milliseconds total = milliseconds(10'000)) {
    StarttlsProber prober(settings(server.port()), connector_);
    const auto start = std::chrono::steady_clock::now();
    StarttlsResult r = prober.probe(server.address(), "mx1.example.com", Deadline::after(total));
    elapsed_ = std::chrono::steady_clock::now() - start;
    return r;
  }

  static bool contains(const std::vector<std::string>& v, const std::string& s) {
    return std::find(v.begin(), v.end(), s) != v.end();
  }

  static inline testing::TestCert* ca_ = nullptr;
  static inline testing::TestCert* leaf_ = nullptr;
  TcpConnector connector_;
  std::chrono::steady_clock::duration elapsed_{};
};

TEST_F(StarttlsProbeTest, CompletesHandshakeAndKeepsThePresentedChain) {
  SmtpTestServer server(script());
  const StarttlsResult r = probe(server);
  ASSERT_TRUE(r.ok()) << to_string(r.failure) << ": " << r.message;
  EXPECT_EQ(r.phase, StarttlsPhase::kDone);
  EXPECT_EQ(r.address, "127.0.0.1");
  EXPECT_EQ(r.family, "ipv4");
  EXPECT_TRUE(r.connect_ok);
  EXPECT_EQ(r.banner.code, 220);
  EXPECT_TRUE(r.starttls_offered);
  EXPECT_TRUE(r.starttls_ok);
  EXPECT_EQ(r.tls_version, "TLSv1.3");
  EXPECT_FALSE(r.cipher.empty());
  ASSERT_EQ(r.chain.size(), 2u);
  const tls::DerChain presented = r.chain.der();
  ASSERT_EQ(presented.size(), 2u);
  EXPECT_EQ(presented[0], leaf_->der());  // leaf first, byte for byte as presented
  EXPECT_EQ(presented[1], ca_->der());
  EXPECT_TRUE(r.durations.connect && r.durations.banner && r.durations.ehlo &&
              r.durations.starttls && r.durations.tls_handshake);
  EXPECT_TRUE(contains(r.ehlo_keywords, "STARTTLS"));
  EXPECT_FALSE(r.ehlo_tls_keywords.empty());
  EXPECT_FALSE(contains(r.ehlo_tls_keywords, "STARTTLS"));
  EXPECT_EQ(server.last_sni(), "mx1.example.com");
  const auto cmds = server.commands();
  EXPECT_EQ(cmds, (std::vector<std::string>{"EHLO probe.test", "STARTTLS", "EHLO probe.test",
                                            "QUIT"}));
}

TEST_F(StarttlsProbeTest, MultilineBannerAndLowerCaseStarttlsOnTheLastLine) {
  SmtpServerScript s = script();
  s.banner_lines = {"mx.test ESMTP", "postscreen says hello", "ready"};
  s.ehlo_lines = {"mx.test", "PIPELINING", "starttls"};  // "250 starttls": no hyphen
  SmtpTestServer server(s);
  const StarttlsResult r = probe(server);
  ASSERT_TRUE(r.ok()) << r.message;
  EXPECT_EQ(r.banner.lines.size(), 3u);
  EXPECT_TRUE(r.starttls_ok);
}

TEST_F(StarttlsProbeTest, StarttlsNotOfferedQuitsPolitely) {
  SmtpServerScript s = script();
  s.ehlo_lines = {"mx.test", "PIPELINING", "8BITMIME"};
  SmtpTestServer server(s);
  const StarttlsResult r = probe(server);
  EXPECT_EQ(r.failure, StarttlsFailure::kStarttlsNotOffered);
  EXPECT_FALSE(r.starttls_offered);
  EXPECT_FALSE(r.starttls_ok);
  EXPECT_EQ(r.phase, StarttlsPhase::kEhlo);
  EXPECT_TRUE(r.chain.empty());
  EXPECT_EQ(server.commands(), (std::vector<std::string>{"EHLO probe.test", "QUIT"}));
}

TEST_F(StarttlsProbeTest, Starttls454IsRejected) {
  SmtpTestServer server(script(SmtpServerMode::kStarttlsRejected));
  const StarttlsResult r = probe(server);
  EXPECT_EQ(r.failure, StarttlsFailure::kStarttlsRejected);
  EXPECT_TRUE(r.starttls_offered);
  EXPECT_FALSE(r.starttls_ok);
  EXPECT_NE(r.message.find("454"), std::string::npos) << r.message;
  EXPECT_TRUE(contains(server.commands(), "QUIT"));
}

TEST_F(StarttlsProbeTest, Starttls501IsRejected) {
  SmtpServerScript s = script(SmtpServerMode::kStarttlsRejected);
  s.starttls_reply = "501 5.5.4 Syntax error";
  SmtpTestServer server(s);
  EXPECT_EQ(probe(server).failure, StarttlsFailure::kStarttlsRejected);
}

TEST_F(StarttlsProbeTest, Banner554IsRejected) {
  SmtpTestServer server(script(SmtpServerMode::kBannerRejected));
  const StarttlsResult r = probe(server);
  EXPECT_EQ(r.failure, StarttlsFailure::kBannerRejected);
  EXPECT_EQ(r.banner.code, 554);
  EXPECT_TRUE(r.connect_ok);
  EXPECT_EQ(server.commands(), std::vector<std::string>{"QUIT"});
}

TEST_F(StarttlsProbeTest, SilentServerIsABannerTimeout) {
  SmtpTestServer server(script(SmtpServerMode::kStallBeforeBanner));
  const StarttlsResult r = probe(server);
  EXPECT_EQ(r.failure, StarttlsFailure::kBannerTimeout);
  EXPECT_EQ(r.phase, StarttlsPhase::kBanner);
  EXPECT_TRUE(r.durations.banner.has_value());
  EXPECT_LT(elapsed_, seconds(10));  // 2 s cap; generous bound for "did not hang"
}

TEST_F(StarttlsProbeTest, OverallDeadlineBoundsALongPhaseCap) {
  SmtpTestServer server(script(SmtpServerMode::kStallBeforeBanner));
  StarttlsSettings s = settings(server.port());
  s.banner_timeout = seconds(300);  // the RFC 5321 value
  StarttlsProber prober(s, connector_);
  const auto start = std::chrono::steady_clock::now();
  const StarttlsResult r = prober.probe("127.0.0.1", "mx1.example.com", Deadline::after(seconds(1)));
  EXPECT_EQ(r.failure, StarttlsFailure::kBannerTimeout);
  EXPECT_LT(std::chrono::steady_clock::now() - start, seconds(10));
}

TEST_F(StarttlsProbeTest, StallAfterBannerIsATimeoutInEhlo) {
  SmtpTestServer server(script(SmtpServerMode::kStallAfterBanner));
  const StarttlsResult r = probe(server);
  EXPECT_EQ(r.failure, StarttlsFailure::kTimeout);
  EXPECT_EQ(r.phase, StarttlsPhase::kEhlo);
  EXPECT_EQ(r.banner.code, 220);
  EXPECT_LT(elapsed_, seconds(10));
}

TEST_F(StarttlsProbeTest, EndlessLineIsAProtocolError) {
  SmtpTestServer server(script(SmtpServerMode::kEndlessLine));
  const StarttlsResult r = probe(server);
  EXPECT_EQ(r.failure, StarttlsFailure::kProtocolError);
  EXPECT_EQ(r.phase, StarttlsPhase::kBanner);
  EXPECT_NE(r.message.find("longer than"), std::string::npos) << r.message;
  EXPECT_LT(elapsed_, seconds(10));
}

TEST_F(StarttlsProbeTest, TenThousandContinuationLinesAreAProtocolError) {
  SmtpTestServer server(script(SmtpServerMode::kManyContinuations));
  const StarttlsResult r = probe(server);
  EXPECT_EQ(r.failure, StarttlsFailure::kProtocolError);
  EXPECT_EQ(r.phase, StarttlsPhase::kEhlo);
  EXPECT_LT(elapsed_, seconds(10));
}

TEST_F(StarttlsProbeTest, GarbageBannerIsAProtocolError) {
  SmtpTestServer server(script(SmtpServerMode::kGarbageBanner));
  const StarttlsResult r = probe(server);
  EXPECT_EQ(r.failure, StarttlsFailure::kProtocolError);
  EXPECT_EQ(r.phase, StarttlsPhase::kBanner);
}

TEST_F(StarttlsProbeTest, DropDuringHandshakeIsAHandshakeFailure) {
  SmtpTestServer server(script(SmtpServerMode::kDropDuringHandshake));
  const StarttlsResult r = probe(server);
  EXPECT_EQ(r.failure, StarttlsFailure::kTlsHandshakeFailed) << r.message;
  EXPECT_EQ(r.phase, StarttlsPhase::kTlsHandshake);
  EXPECT_FALSE(r.starttls_ok);
  EXPECT_FALSE(r.message.empty());
  EXPECT_LT(elapsed_, seconds(10));
}

TEST_F(StarttlsProbeTest, TlsGarbageAfter220IsAHandshakeFailureWithOpensslsReason) {
  SmtpTestServer server(script(SmtpServerMode::kTlsGarbageAfter220));
  const StarttlsResult r = probe(server);
  EXPECT_EQ(r.failure, StarttlsFailure::kTlsHandshakeFailed);
  // The drained OpenSSL error queue says why ("wrong version number", "packet length too long").
  EXPECT_NE(r.message.find("SSL routines"), std::string::npos) << r.message;
  EXPECT_LT(elapsed_, seconds(10));
}

TEST_F(StarttlsProbeTest, RefusedConnection) {
  // A port that was just free: bind, read the port, close.
  std::uint16_t port = 0;
  {
    UniqueFd fd(::socket(AF_INET, SOCK_STREAM, 0));
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ASSERT_EQ(::bind(fd.get(), reinterpret_cast<sockaddr*>(&a), sizeof(a)), 0);
    socklen_t len = sizeof(a);
    ASSERT_EQ(::getsockname(fd.get(), reinterpret_cast<sockaddr*>(&a), &len), 0);
    port = ntohs(a.sin_port);
  }
  StarttlsProber prober(settings(port), connector_);
  const StarttlsResult r = prober.probe("127.0.0.1", "mx1.example.com", Deadline::after(seconds(5)));
  EXPECT_EQ(r.failure, StarttlsFailure::kConnectRefused) << r.message;
  EXPECT_FALSE(r.connect_ok);
  EXPECT_EQ(r.phase, StarttlsPhase::kConnect);
  EXPECT_TRUE(r.durations.connect.has_value());
  EXPECT_FALSE(r.durations.banner.has_value());
}

TEST_F(StarttlsProbeTest, NotAnAddressIsUnreachable) {
  StarttlsProber prober(settings(25), connector_);
  const StarttlsResult r = prober.probe("mx1.example.com", "mx1.example.com", Deadline::after(seconds(1)));
  EXPECT_EQ(r.failure, StarttlsFailure::kUnreachable);
  EXPECT_EQ(r.family, "");
}

// The seam: a connector that reports a timeout without touching the network.
class TimingOutConnector final : public Connector {
 public:
  ConnectResult connect(const std::string&, std::uint16_t, Deadline) override {
    ConnectResult r;
    r.error = ConnectError::kTimeout;
    r.message = "filtered";
    return r;
  }
};

TEST_F(StarttlsProbeTest, ConnectTimeoutFromTheConnectorSeam) {
  TimingOutConnector connector;
  StarttlsProber prober(settings(25), connector);
  const StarttlsResult r = prober.probe("192.0.2.1", "mx1.example.com", Deadline::after(seconds(1)));
  EXPECT_EQ(r.failure, StarttlsFailure::kConnectTimeout);
  EXPECT_NE(r.message.find("filtered"), std::string::npos);
}

TEST_F(StarttlsProbeTest, Ipv6Loopback) {
  if (!SmtpTestServer::ipv6_loopback_available()) GTEST_SKIP() << "no ::1 on this machine";
  SmtpTestServer server(script(), SmtpTestServer::Family::kIpv6);
  const StarttlsResult r = probe(server);
  ASSERT_TRUE(r.ok()) << r.message;
  EXPECT_EQ(r.address, "::1");
  EXPECT_EQ(r.family, "ipv6");
  EXPECT_EQ(r.chain.size(), 2u);
}

}  // namespace
}  // namespace mailtls::smtp
