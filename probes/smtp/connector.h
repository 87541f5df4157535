#pragma once
// The seam between the SMTP probe and TCP: connect to an IP literal within a deadline.
// The real TcpConnector does a non-blocking connect + poll(2); tests substitute one that hands
// out a socketpair end or redirects to a loopback port.

#include <cstdint>
#include <string>
#include <string_view>

#include "probes/base/deadline.h"
#include "probes/base/unique_fd.h"

namespace mailtls::smtp {

enum class ConnectError {
  kNone,
  kRefused,         // RST: nothing listens there
  kTimeout,         // no answer before the deadline (filtered, or the host is down)
  kUnreachable,     // no route, network down, address not available (e.g. no IPv6 here)
  kInvalidAddress,  // not an IPv4 or IPv6 literal
  kOther,           // any other socket error; see message
};

std::string_view to_string(ConnectError e);

struct ConnectResult {
  UniqueFd fd;  // connected, O_NONBLOCK set, when error == kNone
  ConnectError error = ConnectError::kNone;
  std::string message;
  bool ok() const { return error == ConnectError::kNone && fd.valid(); }
};

class Connector {
 public:
  virtual ~Connector() = default;
  // Thread-safe: called concurrently by the address fan-out.
  virtual ConnectResult connect(const std::string& ip_literal, std::uint16_t port,
                                Deadline deadline) = 0;
};

class TcpConnector final : public Connector {
 public:
  ConnectResult connect(const std::string& ip_literal, std::uint16_t port,
                        Deadline deadline) override;
};

// "ipv4", "ipv6", or "" when `ip_literal` is neither.
std::string address_family(std::string_view ip_literal);

}  // namespace mailtls::smtp
