#include "probes/domain/special_address.h"

#include <gtest/gtest.h>

namespace mailtls::domain {
namespace {

TEST(SpecialAddress, Ranges) {
  for (const char* a : {"127.0.0.1", "10.1.2.3", "172.16.0.1", "172.31.255.255", "192.168.1.1",
                        "169.254.1.1", "100.64.0.1", "0.0.0.0", "224.0.0.1", "255.255.255.255",
                        "192.0.2.7", "::1", "::", "fe80::1", "fd00::1", "ff02::1", "2001:db8::1",
                        "::ffff:127.0.0.1", "::ffff:10.0.0.1", "not-an-ip", ""}) {
    EXPECT_TRUE(is_special_purpose_address(a)) << a;
  }
  for (const char* a : {"8.8.8.8", "172.32.0.1", "192.169.0.1", "2a00:1450:4001::1b", "::ffff:8.8.4.4",
                        "64:ff9b::808:808"}) {
    EXPECT_FALSE(is_special_purpose_address(a)) << a;
  }
}

}  // namespace
}  // namespace mailtls::domain
