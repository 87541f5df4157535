// The policy fetch obeys the special-purpose address rule the SMTP probes follow (issue 17,
// finding 8): mta-sts.<domain> pointing at loopback, private or link-local addresses, also
// written as IPv6 forms with the IPv4 address inside, is not connected to unless
// connect_special_addresses is set (smtp.probe_special_addresses). A TCP listener on 127.0.0.1
// shows whether a connection was made.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <gtest/gtest.h>

#include <chrono>
#include <string>

#include "probes/base/unique_fd.h"
#include "probes/dns/records.h"
#include "probes/mtasts/policy_fetcher.h"
#include "tests/fakes/fake_resolver.h"

namespace mailtls::mtasts {
namespace {

using std::chrono::seconds;

// Listens on 127.0.0.1:<ephemeral> and never accepts: connections wait in the backlog, where
// connections() counts them.
class Listener {
 public:
  Listener() {
    fd_.reset(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0));
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    EXPECT_EQ(::bind(fd_.get(), reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
    EXPECT_EQ(::listen(fd_.get(), 16), 0);
    socklen_t len = sizeof addr;
    ::getsockname(fd_.get(), reinterpret_cast<sockaddr*>(&addr), &len);
    port_ = ntohs(addr.sin_port);
  }
  int port() const { return port_; }
  int connections() {
    int n = 0;
    while (true) {
      UniqueFd c(::accept4(fd_.get(), nullptr, nullptr, SOCK_CLOEXEC));
      if (!c.valid()) return n;
      ++n;
    }
  }

 private:
  UniqueFd fd_;
  int port_ = 0;
};

PolicyFetchResult fetch(dns::Resolver& resolver, int port, bool allow_special) {
  PolicyFetcherSettings s;
  s.port = port;
  s.connect_timeout = seconds(2);
  s.connect_special_addresses = allow_special;
  auto created = CurlPolicyFetcher::create(resolver, s);
  EXPECT_TRUE(created.fetcher) << created.error;
  return created.fetcher->fetch("example.com", Deadline::after(seconds(3)));
}

TEST(PolicyFetcherSpecialAddresses, LoopbackIsRefusedWithAReasonAndNotConnectedTo) {
  Listener listener;
  testing::FakeResolver resolver;
  resolver.set("mta-sts.example.com", dns::RrType::kA, {dns::encode_address("127.0.0.1")});
  const auto r = fetch(resolver, listener.port(), false);
  EXPECT_FALSE(r.ok);
  EXPECT_EQ(r.failure, PolicyFetchFailure::kDns);
  EXPECT_EQ(r.result_type, "sts-policy-fetch-error");
  EXPECT_NE(r.message.find("127.0.0.1"), std::string::npos) << r.message;
  EXPECT_NE(r.message.find("special-purpose address (smtp.probe_special_addresses is off)"),
            std::string::npos)
      << r.message;
  EXPECT_TRUE(r.addresses.empty());
  EXPECT_EQ(listener.connections(), 0);
}

TEST(PolicyFetcherSpecialAddresses, Ipv4InsideIpv6IsRefusedToo) {
  Listener listener;
  testing::FakeResolver resolver;
  resolver.set("mta-sts.example.com", dns::RrType::kA, {dns::encode_address("10.1.2.3")});
  resolver.set("mta-sts.example.com", dns::RrType::kAaaa,
               {dns::encode_address("::ffff:127.0.0.1"), dns::encode_address("64:ff9b::a9fe:a9fe"),
                dns::encode_address("2002:7f00:1::1"), dns::encode_address("::1")});
  const auto r = fetch(resolver, listener.port(), false);
  EXPECT_EQ(r.failure, PolicyFetchFailure::kDns) << r.message;
  for (const char* ip : {"10.1.2.3", "::ffff:127.0.0.1", "64:ff9b::a9fe:a9fe", "2002:7f00:1::1", "::1"}) {
    EXPECT_NE(r.message.find(ip), std::string::npos) << ip << " not named in: " << r.message;
  }
  EXPECT_EQ(listener.connections(), 0);
}

// The control: with the option on, the same record is connected to (the listener never speaks
// TLS, so the fetch itself fails, later).
TEST(PolicyFetcherSpecialAddresses, AllowedWhenTheOptionIsOn) {
  Listener listener;
  testing::FakeResolver resolver;
  resolver.set("mta-sts.example.com", dns::RrType::kA, {dns::encode_address("127.0.0.1")});
  const auto r = fetch(resolver, listener.port(), true);
  EXPECT_FALSE(r.ok);
  EXPECT_NE(r.failure, PolicyFetchFailure::kDns) << r.message;
  EXPECT_EQ(r.addresses, std::vector<std::string>{"127.0.0.1"});
  EXPECT_EQ(listener.connections(), 1);
}

}  // namespace
}  // namespace mailtls::mtasts
