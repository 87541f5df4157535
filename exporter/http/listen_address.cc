#include "exporter/http/listen_address.h"

#include <charconv>

namespace mailtls::exporter {

std::optional<ListenAddress> parse_listen_address(const std::string& text, std::string* error) {
  auto bad = [&](const std::string& why) -> std::optional<ListenAddress> {
    if (error) *error = "invalid listen address \"" + text + "\": " + why;
    return std::nullopt;
  };
  auto colon = text.rfind(':');
  if (colon == std::string::npos) return bad("expected host:port");
  ListenAddress a;
  a.host = text.substr(0, colon);
  const std::string port = text.substr(colon + 1);
  if (a.host.size() >= 2 && a.host.front() == '[' && a.host.back() == ']') {
    a.host = a.host.substr(1, a.host.size() - 2);
  } else if (a.host.find(':') != std::string::npos) {
    return bad("IPv6 addresses go in brackets, e.g. [::1]:9925");
  }
  if (a.host.empty()) a.host = "::";
  auto [p, ec] = std::from_chars(port.data(), port.data() + port.size(), a.port);
  if (port.empty() || ec != std::errc() || p != port.data() + port.size() || a.port < 0 ||
      a.port > 65535) {
    return bad("port must be a number from 0 to 65535");
  }
  return a;
}

}  // namespace mailtls::exporter
