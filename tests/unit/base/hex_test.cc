#include "probes/base/hex.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <string>
#include <vector>

namespace mailtls {
namespace {

TEST(Hex, EncodesTwoLowerCaseDigitsPerByte) {
  EXPECT_EQ(to_hex(std::vector<std::uint8_t>{}), "");
  EXPECT_EQ(to_hex(std::vector<std::uint8_t>{0x00, 0x0c, 0x70, 0xff, 0xa5}), "000c70ffa5");
  EXPECT_EQ(to_hex(std::string_view("\x01\xfe" "A", 3)), "01fe41");
}

TEST(Hex, EveryByteRoundTrips) {
  std::vector<std::uint8_t> all;
  for (int b = 0; b < 256; ++b) all.push_back(static_cast<std::uint8_t>(b));
  const std::string text = to_hex(all);
  ASSERT_EQ(text.size(), 512u);
  EXPECT_EQ(text.substr(0, 8), "00010203");
  EXPECT_EQ(text.substr(2 * 0x9f, 6), "9fa0a1");
  EXPECT_EQ(text.substr(504), "fcfdfeff");
  EXPECT_EQ(from_hex(text), all);
}

TEST(Hex, AppendsOneByte) {
  std::string out = "\\x";
  append_hex(out, 0x1b);
  append_hex(out, 0xe9);
  EXPECT_EQ(out, "\\x1be9");
}

TEST(Hex, DigitValues) {
  EXPECT_EQ(hex_digit_value('0'), 0);
  EXPECT_EQ(hex_digit_value('9'), 9);
  EXPECT_EQ(hex_digit_value('a'), 10);
  EXPECT_EQ(hex_digit_value('F'), 15);
  for (char c : std::string("gG/:@`x \0", 9)) EXPECT_EQ(hex_digit_value(c), -1) << int(c);
  EXPECT_EQ(hex_digit_value(static_cast<char>(0xb0)), -1);
}

TEST(Hex, DecodesEitherCase) {
  EXPECT_EQ(from_hex(""), std::vector<std::uint8_t>{});
  EXPECT_EQ(from_hex("000C70fF"), (std::vector<std::uint8_t>{0x00, 0x0c, 0x70, 0xff}));
}

TEST(Hex, RefusesOddLengthAndNonDigits) {
  EXPECT_FALSE(from_hex("abc"));
  EXPECT_FALSE(from_hex("zz"));
  EXPECT_FALSE(from_hex("0x12"));
  EXPECT_FALSE(from_hex("12 34"));
  EXPECT_FALSE(from_hex(std::string_view("1\0", 2)));
}

}  // namespace
}  // namespace mailtls
