// 100 addresses, half of them stalling: the fan-out must finish in about one timeout, with
// every result in the order of the targets.

#include "probes/smtp/address_fanout.h"

#include <gtest/gtest.h>

#include <map>
#include <mutex>

#include "tests/fakes/smtp_test_server.h"
#include "tests/fakes/test_certs.h"

namespace mailtls::smtp {
namespace {

using std::chrono::seconds;

// Sends each documentation address (192.0.2.x) to one of two loopback servers.
class RedirectingConnector final : public Connector {
 public:
  RedirectingConnector(std::map<std::string, std::uint16_t> port_of) : port_of_(std::move(port_of)) {}
  ConnectResult connect(const std::string& ip, std::uint16_t, Deadline deadline) override {
    return real_.connect("127.0.0.1", port_of_.at(ip), deadline);
  }

 private:
  std::map<std::string, std::uint16_t> port_of_;
  TcpConnector real_;
};

TEST(AddressFanout, HundredTargetsHalfStallingFinishInAboutOneTimeout) {
  const testing::TestCert ca = testing::make_test_ca("Fanout Root");
  const testing::TestCert leaf =
      testing::make_test_leaf({.common_name = "mx.example.com", .dns_names = {"mx.example.com"}}, ca);
  testing::SmtpServerScript good;
  good.cert_chain_pem = leaf.pem() + ca.pem();
  good.key_pem = leaf.key_pem();
  testing::SmtpServerScript stall;
  stall.mode = testing::SmtpServerMode::kStallBeforeBanner;
  testing::SmtpTestServer good_server(good);
  testing::SmtpTestServer stall_server(stall);

  std::vector<StarttlsTarget> targets;
  std::map<std::string, std::uint16_t> port_of;
  for (int i = 0; i < 100; ++i) {
    const std::string ip = "192.0.2." + std::to_string(i + 1);
    targets.push_back({ip, "mx.example.com"});
    port_of[ip] = (i % 2 == 0) ? good_server.port() : stall_server.port();
  }
  RedirectingConnector connector(port_of);
  StarttlsSettings settings;
  settings.ehlo_name = "probe.test";
  settings.banner_timeout = seconds(2);
  settings.ehlo_timeout = seconds(2);
  settings.starttls_timeout = seconds(2);
  settings.tls_handshake_timeout = seconds(2);
  StarttlsProber prober(settings, connector);

  const auto start = std::chrono::steady_clock::now();
  const auto results = probe_addresses(prober, targets, Deadline::after(seconds(30)));
  const auto elapsed = std::chrono::steady_clock::now() - start;

  ASSERT_EQ(results.size(), targets.size());
  for (std::size_t i = 0; i < results.size(); ++i) {
    EXPECT_EQ(results[i].address, targets[i].ip);
    if (i % 2 == 0) {
      EXPECT_TRUE(results[i].ok()) << i << ": " << results[i].message;
      EXPECT_EQ(results[i].chain.size(), 2u);
    } else {
      EXPECT_EQ(results[i].failure, StarttlsFailure::kBannerTimeout) << i;
    }
  }
  // Serialised, the 50 stalls would take 100 s; 3x the timeout means "ran concurrently".
  EXPECT_LT(elapsed, seconds(6));
}

TEST(AddressFanout, BoundedPoolStillProbesEveryTarget) {
  testing::SmtpServerScript stall;
  stall.mode = testing::SmtpServerMode::kStallBeforeBanner;
  testing::SmtpTestServer stall_server(stall);
  std::vector<StarttlsTarget> targets;
  std::map<std::string, std::uint16_t> port_of;
  for (int i = 0; i < 6; ++i) {
    const std::string ip = "192.0.2." + std::to_string(i + 1);
    targets.push_back({ip, "mx.example.com"});
    port_of[ip] = stall_server.port();
  }
  RedirectingConnector connector(port_of);
  StarttlsSettings settings;
  settings.banner_timeout = std::chrono::milliseconds(300);
  StarttlsProber prober(settings, connector);
  const auto results = probe_addresses(prober, targets, Deadline::after(seconds(20)), 2);
  ASSERT_EQ(results.size(), 6u);
  for (std::size_t i = 0; i < results.size(); ++i) {
    EXPECT_EQ(results[i].address, targets[i].ip);
    EXPECT_EQ(results[i].failure, StarttlsFailure::kBannerTimeout);
  }
  EXPECT_GE(stall_server.connections_accepted(), 6);
}

TEST(AddressFanout, EmptyTargetList) {
  TcpConnector connector;
  StarttlsProber prober(StarttlsSettings{}, connector);
  EXPECT_TRUE(probe_addresses(prober, {}, Deadline::after(seconds(1))).empty());
}

}  // namespace
}  // namespace mailtls::smtp
