// SHA-256 test vectors of FIPS 180-2 (Appendix B) and the digest of the empty message.
#include "probes/base/sha256.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "probes/base/hex.h"

namespace mailtls {
namespace {

TEST(Sha256, OneBlockMessage) {  // FIPS 180-2 B.1
  EXPECT_EQ(sha256_hex("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}

TEST(Sha256, MultiBlockMessage) {  // FIPS 180-2 B.2
  EXPECT_EQ(sha256_hex("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq"),
            "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
}

TEST(Sha256, LongMessage) {  // FIPS 180-2 B.3: one million 'a'
  EXPECT_EQ(sha256_hex(std::string(1000000, 'a')),
            "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
}

TEST(Sha256, EmptyMessage) {
  EXPECT_EQ(sha256_hex(std::string_view()),
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
}

TEST(Sha256, BytesAndTextGiveTheSameDigest) {
  const std::vector<std::uint8_t> bytes{'a', 'b', 'c', 0x00, 0xff};
  const std::string text("abc\0\xff", 5);
  EXPECT_EQ(sha256(bytes), sha256(text));
  EXPECT_EQ(sha256_hex(bytes), to_hex(sha256(text)));
  EXPECT_NE(sha256_hex(bytes), sha256_hex("abc"));  // the NUL and what follows count
}

}  // namespace
}  // namespace mailtls
