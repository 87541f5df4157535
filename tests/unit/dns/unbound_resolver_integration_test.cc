// UnboundResolver against a loopback "server" that reads queries and never answers: every
// lookup must end by its deadline with an indeterminate "timeout", and nothing may hang.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <fstream>
#include <thread>

#include "probes/base/unique_fd.h"
#include "probes/dns/unbound_resolver.h"

namespace mailtls::dns {
namespace {

using std::chrono::steady_clock;

// A UDP socket on 127.0.0.1 that a thread drains without replying.
class SilentDnsServer {
 public:
  SilentDnsServer() {
    fd_.reset(::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0));
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    EXPECT_EQ(::bind(fd_.get(), reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
    socklen_t len = sizeof addr;
    ::getsockname(fd_.get(), reinterpret_cast<sockaddr*>(&addr), &len);
    port_ = ntohs(addr.sin_port);
    timeval tv{0, 100'000};
    ::setsockopt(fd_.get(), SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    reader_ = std::thread([this] {
      char buf[4096];
      while (!stop_) {
        if (::recv(fd_.get(), buf, sizeof buf, 0) > 0) ++queries_;
      }
    });
  }
  ~SilentDnsServer() {
    stop_ = true;
    reader_.join();
  }
  std::string address() const { return "127.0.0.1@" + std::to_string(port_); }
  int queries() const { return queries_; }

 private:
  UniqueFd fd_;
  int port_ = 0;
  std::atomic<bool> stop_{false};
  std::atomic<int> queries_{0};
  std::thread reader_;
};

ResolverConfig config_for(const SilentDnsServer& server, bool as_stub) {
  ResolverConfig c;
  c.use_resolv_conf = false;
  c.root_trust_anchor_file = "";
  if (as_stub) {
    c.stub_zones.push_back({"example.test", {server.address()}});
    c.forwarders = {server.address()};  // the rest must not try the real root servers
  } else {
    c.forwarders = {server.address()};
  }
  return c;
}

TEST(UnboundResolverIntegrationTest, SilentForwarderTimesOutByTheDeadline) {
  SilentDnsServer server;
  auto made = UnboundResolver::create(config_for(server, false));
  ASSERT_TRUE(made.resolver) << made.error;
  const auto start = steady_clock::now();
  const Answer a =
      made.resolver->lookup("mx.example.test", RrType::kA, Deadline::after(std::chrono::seconds(2)));
  const auto took = steady_clock::now() - start;
  EXPECT_EQ(a.outcome, Outcome::kError);
  EXPECT_EQ(a.security, Security::kIndeterminate);
  EXPECT_EQ(a.reason, "timeout");
  EXPECT_EQ(a.qname, "mx.example.test");
  EXPECT_LT(took, std::chrono::seconds(10));  // "did not hang", not a performance bound
  EXPECT_GT(server.queries(), 0);             // the question really went to our socket
}

TEST(UnboundResolverIntegrationTest, SilentStubZoneTimesOut) {
  SilentDnsServer server;
  auto made = UnboundResolver::create(config_for(server, true));
  ASSERT_TRUE(made.resolver) << made.error;
  const auto start = steady_clock::now();
  const Answer a = made.resolver->lookup("_25._tcp.mx.example.test", RrType::kTlsa,
                                         Deadline::after(std::chrono::seconds(2)));
  EXPECT_EQ(a.reason, "timeout");
  EXPECT_EQ(a.security, Security::kIndeterminate);
  EXPECT_LT(steady_clock::now() - start, std::chrono::seconds(10));
}

TEST(UnboundResolverIntegrationTest, ConfiguredLookupTimeoutCapsTheDeadline) {
  SilentDnsServer server;
  ResolverConfig c = config_for(server, false);
  c.lookup_timeout_ms = 500;
  auto made = UnboundResolver::create(c);
  ASSERT_TRUE(made.resolver) << made.error;
  const auto start = steady_clock::now();
  const Answer a = made.resolver->lookup("a.example.test", RrType::kA, Deadline::never());
  EXPECT_EQ(a.reason, "timeout");
  EXPECT_LT(steady_clock::now() - start, std::chrono::seconds(10));
}

TEST(UnboundResolverIntegrationTest, TwoHundredConcurrentLookupsAllEnd) {
  SilentDnsServer server;
  auto made = UnboundResolver::create(config_for(server, false));
  ASSERT_TRUE(made.resolver) << made.error;
  constexpr int kLookups = 200;
  std::atomic<int> timeouts{0};
  std::vector<std::thread> threads;
  const auto start = steady_clock::now();
  for (int i = 0; i < kLookups; ++i) {
    threads.emplace_back([&, i] {
      const Answer a = made.resolver->lookup("h" + std::to_string(i) + ".example.test",
                                             i % 2 == 0 ? RrType::kA : RrType::kTlsa,
                                             Deadline::after(std::chrono::seconds(2)));
      if (a.reason == "timeout" && a.security == Security::kIndeterminate) ++timeouts;
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(timeouts.load(), kLookups);
  EXPECT_LT(steady_clock::now() - start, std::chrono::seconds(20));
  made.resolver.reset();  // with 200 cancelled queries still inside libunbound
}

TEST(UnboundResolverIntegrationTest, LocalAnswersNeedNoNetwork) {
  ResolverConfig c;
  c.use_resolv_conf = false;
  c.root_trust_anchor_file = "";
  c.forwarders = {"127.0.0.1@9"};
  auto made = UnboundResolver::create(c);
  ASSERT_TRUE(made.resolver) << made.error;
  // unbound answers localhost from its built-in local zone.
  const Answer a =
      made.resolver->lookup("localhost", RrType::kA, Deadline::after(std::chrono::seconds(5)));
  EXPECT_EQ(a.outcome, Outcome::kData);
  EXPECT_EQ(a.security, Security::kInsecure);
  ASSERT_EQ(a.rdata.size(), 1u);
  EXPECT_EQ(a.rdata[0], std::string("\x7f\x00\x00\x01", 4));
}

TEST(UnboundResolverConfigTest, BadConfigurationsAreClearErrors) {
  ResolverConfig base;
  base.use_resolv_conf = false;
  base.root_trust_anchor_file = "";
  base.forwarders = {"127.0.0.1@53"};

  ResolverConfig bad_fwd = base;
  bad_fwd.forwarders = {"not-an-ip"};
  EXPECT_NE(UnboundResolver::create(bad_fwd).error.find("bad forwarder"), std::string::npos);

  ResolverConfig bad_port = base;
  bad_port.forwarders = {"127.0.0.1@99999"};
  EXPECT_FALSE(UnboundResolver::create(bad_port).error.empty());

  ResolverConfig bad_stub = base;
  bad_stub.stub_zones.push_back({"example.test", {"127.0.0.1@x"}});
  EXPECT_NE(UnboundResolver::create(bad_stub).error.find("example.test"), std::string::npos);

  ResolverConfig no_root = base;
  no_root.root_trust_anchor_file = "/nonexistent/root.key";
  EXPECT_NE(UnboundResolver::create(no_root).error.find("/nonexistent/root.key"),
            std::string::npos);

  ResolverConfig no_file = base;
  no_file.trust_anchor_files = {"/nonexistent/anchors.ds"};
  EXPECT_NE(UnboundResolver::create(no_file).error.find("/nonexistent/anchors.ds"),
            std::string::npos);

  ResolverConfig bad_anchor = base;
  bad_anchor.trust_anchors = {"example.test. DS this is not a ds record"};
  const auto made = UnboundResolver::create(bad_anchor);
  EXPECT_FALSE(made.resolver);
  EXPECT_FALSE(made.error.empty());

  auto good = UnboundResolver::create(base);
  EXPECT_TRUE(good.resolver) << good.error;
}

}  // namespace
}  // namespace mailtls::dns
