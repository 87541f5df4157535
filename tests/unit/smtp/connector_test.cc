// TcpConnector against a listener of the test's own on loopback.

#include "probes/smtp/connector.h"

#include <gtest/gtest.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>

namespace mailtls::smtp {
namespace {

// A bound, listening IPv4 loopback socket on an ephemeral port.
struct Listener {
  UniqueFd fd;
  std::uint16_t port = 0;
  Listener() : fd(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0)) {
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof(a);
    if (!fd.valid() || ::bind(fd.get(), reinterpret_cast<sockaddr*>(&a), len) != 0 ||
        ::listen(fd.get(), 4) != 0 ||
        ::getsockname(fd.get(), reinterpret_cast<sockaddr*>(&a), &len) != 0) {
      return;
    }
    port = ntohs(a.sin_port);
  }
};

// The SMTP dialogue is small writes back to back (the TLS Finished, then EHLO): without
// TCP_NODELAY the second waits for the server's delayed ACK.
TEST(TcpConnector, ConnectedSocketHasNagleOff) {
  Listener listener;
  ASSERT_NE(listener.port, 0);
  TcpConnector connector;
  const ConnectResult c =
      connector.connect("127.0.0.1", listener.port, Deadline::after(std::chrono::seconds(5)));
  ASSERT_TRUE(c.ok()) << c.message;
  int nodelay = 0;
  socklen_t len = sizeof(nodelay);
  ASSERT_EQ(::getsockopt(c.fd.get(), IPPROTO_TCP, TCP_NODELAY, &nodelay, &len), 0);
  EXPECT_NE(nodelay, 0);
}

}  // namespace
}  // namespace mailtls::smtp
