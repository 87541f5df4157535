#include "probes/dns/records.h"

#include <gtest/gtest.h>

namespace mailtls::dns {
namespace {

Answer with_rdata(RrType type, std::vector<std::string> rdata) {
  Answer a;
  a.qname = "example.test";
  a.type = type;
  a.outcome = Outcome::kData;
  a.security = Security::kSecure;
  a.rdata = std::move(rdata);
  return a;
}

TEST(RecordsTest, ToStringNamesEveryEnumerator) {
  EXPECT_EQ(to_string(RrType::kA), "A");
  EXPECT_EQ(to_string(RrType::kCname), "CNAME");
  EXPECT_EQ(to_string(RrType::kMx), "MX");
  EXPECT_EQ(to_string(RrType::kTxt), "TXT");
  EXPECT_EQ(to_string(RrType::kAaaa), "AAAA");
  EXPECT_EQ(to_string(RrType::kTlsa), "TLSA");
  EXPECT_EQ(to_string(Security::kSecure), "secure");
  EXPECT_EQ(to_string(Security::kInsecure), "insecure");
  EXPECT_EQ(to_string(Security::kBogus), "bogus");
  EXPECT_EQ(to_string(Security::kIndeterminate), "indeterminate");
  EXPECT_EQ(to_string(Outcome::kData), "data");
  EXPECT_EQ(to_string(Outcome::kNoData), "nodata");
  EXPECT_EQ(to_string(Outcome::kNxDomain), "nxdomain");
  EXPECT_EQ(to_string(Outcome::kError), "error");
}

TEST(RecordsTest, MxRoundTripLowerCasesAndDropsTrailingDot) {
  const auto d = decode_mx(with_rdata(RrType::kMx, {encode_mx(10, "MX1.Example.TEST."),
                                                    encode_mx(20, "mx2.example.test")}));
  EXPECT_EQ(d.malformed, 0);
  ASSERT_EQ(d.records.size(), 2u);
  EXPECT_EQ(d.records[0], (MxRecord{10, "mx1.example.test"}));
  EXPECT_EQ(d.records[1], (MxRecord{20, "mx2.example.test"}));
}

TEST(RecordsTest, MxWireBytesAreExact) {
  EXPECT_EQ(encode_mx(0x0102, "a.b"), std::string("\x01\x02\x01" "a\x01" "b\x00", 7));
}

TEST(RecordsTest, NullMxDecodesToEmptyHost) {
  const std::string null_mx("\x00\x00\x00", 3);  // RFC 7505: preference 0, root name
  EXPECT_EQ(encode_mx(0, "."), null_mx);
  const auto d = decode_mx(with_rdata(RrType::kMx, {null_mx}));
  ASSERT_EQ(d.records.size(), 1u);
  EXPECT_EQ(d.records[0], (MxRecord{0, ""}));
}

TEST(RecordsTest, MalformedMxIsCountedNotRead) {
  const auto d = decode_mx(with_rdata(
      RrType::kMx, {std::string("\x00", 1),                       // too short
                    std::string("\x00\x0a\x05" "ab", 5),          // label runs past the end
                    std::string("\x00\x0a\xc0\x0c", 4),           // compression pointer
                    std::string("\x00\x0a\x01" "a", 4),           // no terminating root label
                    std::string("\x00\x0a\x01" "a\x00" "x", 6),   // trailing garbage
                    encode_mx(5, "ok.test")}));
  EXPECT_EQ(d.malformed, 5);
  ASSERT_EQ(d.records.size(), 1u);
  EXPECT_EQ(d.records[0].host, "ok.test");
}

TEST(RecordsTest, OverlongNameIsMalformed) {
  std::string rr("\x00\x0a", 2);
  for (int i = 0; i < 5; ++i) rr += std::string(1, '\x3f') + std::string(63, 'a');
  rr.push_back('\0');
  EXPECT_EQ(decode_mx(with_rdata(RrType::kMx, {rr})).malformed, 1);
}

TEST(RecordsTest, TlsaRoundTripAndPresentation) {
  TlsaRecord r{3, 1, 1, {0x00, 0x0c, 0x70, 0xff}};
  const auto d = decode_tlsa(with_rdata(RrType::kTlsa, {encode_tlsa(r), std::string("\x03\x01", 2)}));
  EXPECT_EQ(d.malformed, 1);
  ASSERT_EQ(d.records.size(), 1u);
  EXPECT_EQ(d.records[0], r);
  EXPECT_EQ(d.records[0].to_string(), "3 1 1 000c70ff");
}

TEST(RecordsTest, TxtCharacterStringsAreConcatenated) {
  const auto d = decode_txt(with_rdata(
      RrType::kTxt, {encode_txt({"v=STSv1; ", "id=2024"}), std::string("\x05" "ab", 3)}));
  EXPECT_EQ(d.malformed, 1);
  ASSERT_EQ(d.records.size(), 1u);
  EXPECT_EQ(d.records[0], "v=STSv1; id=2024");
}

TEST(RecordsTest, TxtLongStringSplitsAndRejoins) {
  const std::string long_text(600, 'x');
  const std::string wire = encode_txt({long_text});
  EXPECT_EQ(wire.size(), 603u);  // three character-strings: 255 + 255 + 90
  const auto d = decode_txt(with_rdata(RrType::kTxt, {wire}));
  ASSERT_EQ(d.records.size(), 1u);
  EXPECT_EQ(d.records[0], long_text);
}

TEST(RecordsTest, AddressesBothFamilies) {
  EXPECT_EQ(encode_address("192.0.2.1"), std::string("\xc0\x00\x02\x01", 4));
  EXPECT_EQ(encode_address("not an ip"), "");
  const auto d = decode_address(with_rdata(
      RrType::kAaaa, {encode_address("192.0.2.1"), encode_address("2001:db8::1"), "abc"}));
  EXPECT_EQ(d.malformed, 1);
  ASSERT_EQ(d.records.size(), 2u);
  EXPECT_EQ(d.records[0], "192.0.2.1");
  EXPECT_EQ(d.records[1], "2001:db8::1");
}

TEST(RecordsTest, CnameRoundTrip) {
  const auto d = decode_cname(
      with_rdata(RrType::kCname, {encode_name("Mx.Prov.TEST."), std::string("\x00", 1)}));
  EXPECT_EQ(d.malformed, 1);  // a CNAME to the root is not a usable target
  ASSERT_EQ(d.records.size(), 1u);
  EXPECT_EQ(d.records[0], "mx.prov.test");
}

}  // namespace
}  // namespace mailtls::dns
