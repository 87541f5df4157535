#include "probes/base/printable_text.h"

#include <gtest/gtest.h>

#include <string>

namespace mailtls {
namespace {

using namespace std::string_literals;

TEST(PrintableText, KeepsPrintableAsciiAndUtf8) {
  EXPECT_EQ(printable_text("220 mx.example ESMTP"), "220 mx.example ESMTP");
  EXPECT_EQ(printable_text("Gr\xc3\xbc\xc3\x9f" "e \xe2\x82\xac \xf0\x9f\x93\xa7"),
            "Gr\xc3\xbc\xc3\x9f" "e \xe2\x82\xac \xf0\x9f\x93\xa7");
  // Backslashes stay: DNS names in presentation format pass through unchanged.
  EXPECT_EQ(printable_text("\\255\\.x.example"), "\\255\\.x.example");
}

TEST(PrintableText, EscapesControlCharacters) {
  EXPECT_EQ(printable_text("\x1b[2J"), "\\x1b[2J");
  EXPECT_EQ(printable_text("a\r\nb\tc\x7f"), "a\\x0d\\x0ab\\x09c\\x7f");
  EXPECT_EQ(printable_text("nul\0x"s), "nul\\x00x");
  EXPECT_EQ(printable_text("\xc2\x9b" "31m"), "\\u{009b}31m");  // C1 CSI
  EXPECT_EQ(printable_text("a\xe2\x80\xa8" "b"), "a\\u{2028}b");  // line separator
  EXPECT_EQ(printable_text("\xe2\x80\xae" "txt.exe"), "\\u{202e}txt.exe");  // RTL override
}

TEST(PrintableText, EscapesInvalidUtf8ByteByByte) {
  EXPECT_EQ(printable_text("\xff\xfe"), "\\xff\\xfe");
  EXPECT_EQ(printable_text("\x80"), "\\x80");                      // stray continuation
  EXPECT_EQ(printable_text("\xc0\xaf"), "\\xc0\\xaf");             // overlong '/'
  EXPECT_EQ(printable_text("\xed\xa0\x80"), "\\xed\\xa0\\x80");    // surrogate U+D800
  EXPECT_EQ(printable_text("\xf4\x90\x80\x80"), "\\xf4\\x90\\x80\\x80");  // past U+10FFFF
  EXPECT_EQ(printable_text("ok \xe2\x82"), "ok \\xe2\\x82");       // cut short at the end
  EXPECT_EQ(printable_text("\xe2\x82" "A"), "\\xe2\\x82" "A");
}

TEST(PrintableText, IsIdempotentAndItsOutputIsPrintable) {
  std::string all;
  for (int b = 0; b < 256; ++b) all.push_back(static_cast<char>(b));
  all += "\xe2\x82\xac\xc2\x85\xe2\x81\xa6";
  const std::string once = printable_text(all);
  EXPECT_TRUE(is_printable_text(once));
  EXPECT_TRUE(is_valid_utf8(once));
  EXPECT_EQ(printable_text(once), once);
  EXPECT_FALSE(is_printable_text(all));
  for (char c : once) EXPECT_GE(static_cast<unsigned char>(c), 0x20);
}

TEST(PrintableText, ValidUtf8KeepsControlsButEscapesBadBytes) {
  EXPECT_EQ(valid_utf8("a\nb\xff\xe2\x82\xac"), "a\nb\\xff\xe2\x82\xac");
  EXPECT_TRUE(is_valid_utf8("a\nb\xe2\x82\xac"));
  EXPECT_FALSE(is_valid_utf8("a\xff"));
}

TEST(Utf8Prefix, NeverCutsACharacter) {
  const std::string euro = "\xe2\x82\xac";
  const std::string s = "ab" + euro + "c";
  EXPECT_EQ(utf8_prefix(s, 10), s);
  EXPECT_EQ(utf8_prefix(s, 6), s);
  EXPECT_EQ(utf8_prefix(s, 5), "ab" + euro);
  EXPECT_EQ(utf8_prefix(s, 4), "ab");  // inside the euro sign: dropped whole
  EXPECT_EQ(utf8_prefix(s, 3), "ab");
  EXPECT_EQ(utf8_prefix(s, 2), "ab");
  EXPECT_EQ(utf8_prefix(s, 0), "");
  // Not UTF-8 at all: a plain byte cut.
  EXPECT_EQ(utf8_prefix("\x80\x80\x80\x80\x80\x80", 4), "\x80\x80\x80\x80");
  // The 200-byte SMTP excerpt with a 4-byte character across the cut stays valid UTF-8.
  const std::string reply = std::string(198, 'x') + "\xf0\x9f\x93\xa7" + "tail";
  EXPECT_EQ(utf8_prefix(reply, 200), std::string(198, 'x'));
  EXPECT_TRUE(is_valid_utf8(utf8_prefix(reply, 200)));
}

}  // namespace
}  // namespace mailtls
