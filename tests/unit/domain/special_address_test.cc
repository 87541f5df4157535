#include "probes/base/special_address.h"

#include <gtest/gtest.h>

namespace mailtls {
namespace {

void expect_special(std::initializer_list<const char*> addresses) {
  for (const char* a : addresses) EXPECT_TRUE(is_special_purpose_address(a)) << a;
}
void expect_public(std::initializer_list<const char*> addresses) {
  for (const char* a : addresses) EXPECT_FALSE(is_special_purpose_address(a)) << a;
}

TEST(SpecialAddress, NotAnAddress) {
  expect_special({"", "not-an-ip", "127.1", "1.2.3.4.5", "fe80::1%eth0", "[::1]", " 8.8.8.8",
                  "8.8.8.8 ", "::ffff:8.8.8.8.8", "2a00::1::1"});
}

// Each IPv4 special-purpose block at its first and last address, and the public addresses
// just outside it.
TEST(SpecialAddress, Ipv4BlocksAndTheirEdges) {
  expect_special({"0.0.0.0", "0.255.255.255", "10.0.0.0", "10.255.255.255", "100.64.0.0",
                  "100.127.255.255", "127.0.0.1", "127.255.255.255", "169.254.0.0",
                  "169.254.255.255", "172.16.0.0", "172.31.255.255", "192.0.0.0", "192.0.0.255",
                  "192.0.2.0", "192.0.2.255", "192.88.99.1", "192.168.0.0", "192.168.255.255",
                  "198.18.0.0", "198.19.255.255", "198.51.100.7", "203.0.113.9", "224.0.0.1",
                  "239.255.255.255", "240.0.0.1", "255.255.255.255"});
  expect_public({"1.0.0.0", "9.255.255.255", "11.0.0.0", "100.63.255.255", "100.128.0.0",
                 "126.255.255.255", "128.0.0.0", "169.253.255.255", "169.255.0.0",
                 "172.15.255.255", "172.32.0.0", "192.0.1.255", "192.0.3.0", "192.88.98.255",
                 "192.167.255.255", "192.169.0.0", "198.17.255.255", "198.20.0.0",
                 "198.51.99.255", "203.0.112.255", "223.255.255.255", "8.8.8.8"});
}

TEST(SpecialAddress, Ipv6Blocks) {
  expect_special({"::", "::1", "fc00::1", "fdff:ffff::1", "fe80::1", "febf::1", "fec0::1",
                  "ff02::1", "ff0e::1", "100::1", "100::ffff:ffff:ffff:ffff", "2001:db8::1",
                  "2001:db8:ffff::1", "3fff::1", "3fff:fff::1", "2001:2::1", "2001:10::1",
                  "2001:2f::1", "5f00::1", "::2:1", "1::1", "1fff::1", "4000::1", "e000::1"});
  expect_public({"2a00:1450:4001::1b", "2001:4860:4860::8888", "2606:4700::1111", "2001:db7::1",
                 "2001:db9::1", "3ffe::1", "3fff:1000::1", "2001:3::1", "2001:30::1",
                 "2001:4:112::1", "2000::1", "3fff:ffff::1"});
}

// An IPv6 address with an IPv4 address inside is as special as that IPv4 address.
TEST(SpecialAddress, Ipv4InsideIpv6) {
  // IPv4-mapped ::ffff:0:0/96
  expect_special({"::ffff:127.0.0.1", "::ffff:10.0.0.1", "::ffff:169.254.169.254", "::ffff:7f00:1",
                  "::ffff:0.0.0.0"});
  expect_public({"::ffff:8.8.4.4", "::ffff:808:404"});
  // IPv4-translated ::ffff:0:0:0/96
  expect_special({"::ffff:0:127.0.0.1", "::ffff:0:192.168.1.1"});
  expect_public({"::ffff:0:8.8.8.8"});
  // IPv4-compatible ::/96 (deprecated)
  expect_special({"::127.0.0.1", "::10.1.2.3", "::169.254.169.254", "::0.0.0.2"});
  expect_public({"::8.8.8.8"});
  // NAT64 64:ff9b::/96: the gateway connects to the IPv4 address
  expect_special({"64:ff9b::127.0.0.1", "64:ff9b::7f00:1", "64:ff9b::10.0.0.1",
                  "64:ff9b::a9fe:a9fe", "64:ff9b::192.168.0.1"});
  expect_public({"64:ff9b::808:808", "64:ff9b::8.8.4.4"});
  // Local-use NAT64 64:ff9b:1::/48, and the rest of 64:ff9b::/32: not globally reachable
  expect_special({"64:ff9b:1::808:808", "64:ff9b:1:ffff::1", "64:ff9b:2::808:808"});
  // 6to4 2002::/16: bits 16-47 are the IPv4 address
  expect_special({"2002:7f00:1::1", "2002:a00:1::", "2002:c0a8:101::1", "2002:a9fe:a9fe::1",
                  "2002::1"});
  expect_special({"2002:c000:201::1"});  // 192.0.2.1, documentation
  expect_public({"2002:808:808::1"});
}

TEST(SpecialAddress, Teredo) {
  // 2001:0::/32: server IPv4 in bits 32-63, client IPv4 bit-inverted in the last 32 bits.
  // Server 65.54.227.120 (public), client 8.8.8.8 (~ = f7f7:f7f7): public.
  EXPECT_FALSE(is_special_purpose_address("2001:0:4136:e378:8000:63bf:f7f7:f7f7"));
  // Client 127.0.0.1 (~ = 80ff:fffe)
  EXPECT_TRUE(is_special_purpose_address("2001:0:4136:e378:8000:63bf:80ff:fffe"));
  // Client 192.168.1.1 (~ = 3f57:fefe)
  EXPECT_TRUE(is_special_purpose_address("2001:0:4136:e378:8000:63bf:3f57:fefe"));
  // Server 10.0.0.1, client public
  EXPECT_TRUE(is_special_purpose_address("2001:0:a00:1:8000:63bf:f7f7:f7f7"));
}

}  // namespace
}  // namespace mailtls
