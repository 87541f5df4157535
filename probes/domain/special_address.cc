#include "probes/domain/special_address.h"

#include <arpa/inet.h>

#include <array>
#include <cstdint>
#include <cstring>

namespace mailtls::domain {
namespace {

bool v4_special(std::uint32_t a) {
  struct Range {
    std::uint32_t net;
    int bits;
  };
  static constexpr std::array<Range, 15> kRanges = {{
      {0x00000000, 8},   // 0.0.0.0/8 "this network"
      {0x0a000000, 8},   // 10/8 private
      {0x64400000, 10},  // 100.64/10 shared (CGN)
      {0x7f000000, 8},   // 127/8 loopback
      {0xa9fe0000, 16},  // 169.254/16 link-local
      {0xac100000, 12},  // 172.16/12 private
      {0xc0000000, 24},  // 192.0.0/24 IETF protocol assignments
      {0xc0000200, 24},  // 192.0.2/24 documentation
      {0xc0a80000, 16},  // 192.168/16 private
      {0xc6120000, 15},  // 198.18/15 benchmarking
      {0xc6336400, 24},  // 198.51.100/24 documentation
      {0xcb007100, 24},  // 203.0.113/24 documentation
      {0xe0000000, 4},   // 224/4 multicast
      {0xf0000000, 4},   // 240/4 reserved, broadcast
      {0xffffffff, 32},
  }};
  for (const auto& r : kRanges) {
    const std::uint32_t mask = r.bits == 0 ? 0 : ~std::uint32_t{0} << (32 - r.bits);
    if ((a & mask) == r.net) return true;
  }
  return false;
}

}  // namespace

bool is_special_purpose_address(const std::string& ip) {
  in_addr v4{};
  if (inet_pton(AF_INET, ip.c_str(), &v4) == 1) return v4_special(ntohl(v4.s_addr));
  in6_addr v6{};
  if (inet_pton(AF_INET6, ip.c_str(), &v6) != 1) return true;
  const auto* b = v6.s6_addr;
  static const unsigned char kMapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
  if (std::memcmp(b, kMapped, 12) == 0) {
    return v4_special((std::uint32_t{b[12]} << 24) | (std::uint32_t{b[13]} << 16) |
                      (std::uint32_t{b[14]} << 8) | b[15]);
  }
  bool all_zero_but_last = true;
  for (int i = 0; i < 15; ++i) all_zero_but_last = all_zero_but_last && b[i] == 0;
  if (all_zero_but_last && (b[15] == 0 || b[15] == 1)) return true;  // :: and ::1
  if ((b[0] & 0xfe) == 0xfc) return true;                            // fc00::/7 unique local
  if (b[0] == 0xfe && (b[1] & 0xc0) == 0x80) return true;            // fe80::/10 link-local
  if (b[0] == 0xff) return true;                                     // ff00::/8 multicast
  if (b[0] == 0x20 && b[1] == 0x01 && b[2] == 0x0d && b[3] == 0xb8) return true;  // 2001:db8::/32
  if (b[0] == 0x01 && b[1] == 0x00 && std::memcmp(b + 2, "\0\0\0\0\0\0", 6) == 0) return true;  // 100::/64 discard
  if (b[0] == 0x00 && b[1] == 0x64 && b[2] == 0xff && b[3] == 0x9b) return false;  // NAT64: public
  return false;
}

}  // namespace mailtls::domain
