#pragma once
// Parsing of --web.listen-address values: ":9925", "127.0.0.1:9925", "[::1]:9925", "host:0".

#include <optional>
#include <string>

namespace mailtls::exporter {

struct ListenAddress {
  std::string host;  // "::" for all addresses (dual-stack), else a literal or a host name
  int port = 0;      // 0: any free port (tests)
};

std::optional<ListenAddress> parse_listen_address(const std::string& text, std::string* error);

}  // namespace mailtls::exporter
