#include "probes/base/special_address.h"

#include <arpa/inet.h>

#include <array>
#include <cstdint>

namespace mailtls {
namespace {

bool v4_special(std::uint32_t a) {
  struct Range {
    std::uint32_t net;
    int bits;
  };
  static constexpr std::array<Range, 16> kRanges = {{
      {0x00000000, 8},   // 0.0.0.0/8 "this network"
      {0x0a000000, 8},   // 10/8 private
      {0x64400000, 10},  // 100.64/10 shared (CGN)
      {0x7f000000, 8},   // 127/8 loopback
      {0xa9fe0000, 16},  // 169.254/16 link-local
      {0xac100000, 12},  // 172.16/12 private
      {0xc0000000, 24},  // 192.0.0/24 IETF protocol assignments
      {0xc0000200, 24},  // 192.0.2/24 documentation
      {0xc0586300, 24},  // 192.88.99/24 6to4 relay anycast (deprecated)
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

std::uint32_t v4_at(const unsigned char* b) {
  return (std::uint32_t{b[0]} << 24) | (std::uint32_t{b[1]} << 16) | (std::uint32_t{b[2]} << 8) |
         b[3];
}

bool zero(const unsigned char* b, int n) {
  for (int i = 0; i < n; ++i) {
    if (b[i] != 0) return false;
  }
  return true;
}

bool v6_special(const unsigned char* b) {
  // IPv6 forms with an IPv4 address inside are judged by that address: whoever routes them
  // (the kernel, a NAT64 gateway, a 6to4 or Teredo relay) ends up talking to it.
  if (zero(b, 10) && b[10] == 0xff && b[11] == 0xff) return v4_special(v4_at(b + 12));  // ::ffff:a.b.c.d mapped
  if (zero(b, 8) && b[8] == 0xff && b[9] == 0xff && zero(b + 10, 2)) {
    return v4_special(v4_at(b + 12));  // ::ffff:0:a.b.c.d translated (SIIT)
  }
  if (zero(b, 12)) return v4_special(v4_at(b + 12));  // ::a.b.c.d compatible; :: and ::1 too (0/8)
  if (b[0] == 0x00 && b[1] == 0x64 && b[2] == 0xff && b[3] == 0x9b) {
    if (zero(b + 4, 8)) return v4_special(v4_at(b + 12));  // 64:ff9b::/96 NAT64 well-known
    return true;  // 64:ff9b:1::/48 local-use NAT64 (RFC 8215) and the rest of 64:ff9b::/32
  }
  // Everything else outside global unicast 2000::/3 is special: unique local fc00::/7,
  // link-local fe80::/10, multicast ff00::/8, discard 100::/64, unassigned space.
  if ((b[0] & 0xe0) != 0x20) return true;
  if (b[0] == 0x20 && b[1] == 0x02) return v4_special(v4_at(b + 2));  // 2002::/16 6to4
  if (b[0] == 0x20 && b[1] == 0x01 && b[2] == 0x00 && b[3] == 0x00) {
    // 2001::/32 Teredo: the server's IPv4 address, then the client's, bit-inverted.
    const std::uint32_t client = ~v4_at(b + 12);
    return v4_special(v4_at(b + 4)) || v4_special(client);
  }
  if (b[0] == 0x20 && b[1] == 0x01 && b[2] == 0x00 && b[3] == 0x02 && b[4] == 0 && b[5] == 0) {
    return true;  // 2001:2::/48 benchmarking
  }
  if (b[0] == 0x20 && b[1] == 0x01 && b[2] == 0x00 && b[3] >= 0x10 && b[3] <= 0x2f) {
    return true;  // 2001:10::/28 ORCHID, 2001:20::/28 ORCHIDv2
  }
  if (b[0] == 0x20 && b[1] == 0x01 && b[2] == 0x0d && b[3] == 0xb8) return true;  // 2001:db8::/32 documentation
  if (b[0] == 0x3f && b[1] == 0xff && (b[2] & 0xf0) == 0x00) return true;          // 3fff::/20 documentation
  return false;
}

}  // namespace

bool is_special_purpose_address(const std::string& ip) {
  in_addr v4{};
  if (inet_pton(AF_INET, ip.c_str(), &v4) == 1) return v4_special(ntohl(v4.s_addr));
  in6_addr v6{};
  if (inet_pton(AF_INET6, ip.c_str(), &v6) != 1) return true;
  return v6_special(v6.s6_addr);
}

}  // namespace mailtls
