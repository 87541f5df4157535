#include "probes/dns/rrsig_expiry.h"

#include <gtest/gtest.h>

#include <string>

#include "probes/dns/records.h"

namespace mailtls::dns {
namespace {

const std::uint32_t kNowSeconds = 1'700'000'000;
const SystemTime kNow = SystemTime(std::chrono::seconds(kNowSeconds));

void put16(std::string& s, std::uint16_t v) {
  s.push_back(static_cast<char>(v >> 8));
  s.push_back(static_cast<char>(v & 0xFF));
}
void put32(std::string& s, std::uint32_t v) {
  put16(s, static_cast<std::uint16_t>(v >> 16));
  put16(s, static_cast<std::uint16_t>(v & 0xFFFF));
}

std::string header(std::uint16_t qd, std::uint16_t an) {
  std::string s;
  put16(s, 0x1234);
  put16(s, 0x8180);
  put16(s, qd);
  put16(s, an);
  put16(s, 0);
  put16(s, 0);
  return s;
}

std::string question(std::string_view name, std::uint16_t type) {
  std::string s = encode_name(name);
  put16(s, type);
  put16(s, 1);
  return s;
}

// An RR whose owner is a compression pointer to the question name at offset 12.
std::string rr(std::uint16_t type, const std::string& rdata) {
  std::string s("\xc0\x0c", 2);
  put16(s, type);
  put16(s, 1);
  put32(s, 3600);
  put16(s, static_cast<std::uint16_t>(rdata.size()));
  return s + rdata;
}

std::string rrsig(std::uint16_t covered, std::uint32_t expiration, std::uint32_t original_ttl = 3600) {
  std::string s;
  put16(s, covered);
  s.push_back(13);  // ECDSAP256SHA256
  s.push_back(2);
  put32(s, original_ttl);
  put32(s, expiration);
  put32(s, kNowSeconds - 86400);  // inception
  put16(s, 4711);                 // key tag
  s += encode_name("example.test");
  s += std::string(64, '\x01');  // signature
  return s;
}

TEST(RrsigExpiryTest, EarliestOfSeveralCoveringTheQtype) {
  const std::string pkt = header(1, 4) + question("mx.example.test", 1) +
                          rr(1, encode_address("192.0.2.1")) + rr(46, rrsig(1, kNowSeconds + 7200)) +
                          rr(46, rrsig(1, kNowSeconds + 3600)) +
                          rr(46, rrsig(28, kNowSeconds + 60));  // covers another type
  const auto e = earliest_rrsig_expiry(pkt, 1, kNow);
  ASSERT_TRUE(e.has_value());
  EXPECT_EQ(*e, kNow + std::chrono::seconds(3600));
}

TEST(RrsigExpiryTest, CnameChainStepsCount) {
  const std::string pkt = header(1, 4) + question("mx.example.test", 52) +
                          rr(5, encode_name("mx.prov.test")) + rr(46, rrsig(5, kNowSeconds + 100)) +
                          rr(52, std::string("\x03\x01\x01", 3) + std::string(32, 'a')) +
                          rr(46, rrsig(52, kNowSeconds + 500));
  EXPECT_EQ(earliest_rrsig_expiry(pkt, 52, kNow), kNow + std::chrono::seconds(100));
}

TEST(RrsigExpiryTest, UnsignedAnswerHasNone) {
  const std::string pkt =
      header(1, 1) + question("mx.example.test", 1) + rr(1, encode_address("192.0.2.1"));
  EXPECT_FALSE(earliest_rrsig_expiry(pkt, 1, kNow).has_value());
}

TEST(RrsigExpiryTest, SerialArithmeticAcrossTheWrap) {
  // Now just before 2^32 s; the expiration has wrapped past zero but lies 1000 s ahead.
  const std::uint32_t near_wrap = 0xFFFFFF00u;
  const SystemTime now = SystemTime(std::chrono::seconds(near_wrap));
  const std::string pkt = header(1, 2) + question("a.test", 1) + rr(1, encode_address("192.0.2.1")) +
                          rr(46, rrsig(1, near_wrap + 1000u));
  EXPECT_EQ(earliest_rrsig_expiry(pkt, 1, now), now + std::chrono::seconds(1000));
}

TEST(RrsigExpiryTest, ExpiredSignatureIsInThePast) {
  const std::string pkt = header(1, 1) + question("a.test", 1) + rr(46, rrsig(1, kNowSeconds - 60));
  EXPECT_EQ(earliest_rrsig_expiry(pkt, 1, kNow), kNow - std::chrono::seconds(60));
}

TEST(RrsigExpiryTest, TruncatedPacketsNeverReadPastTheEnd) {
  const std::string full = header(1, 2) + question("mx.example.test", 1) +
                           rr(1, encode_address("192.0.2.1")) + rr(46, rrsig(1, kNowSeconds + 10));
  ASSERT_TRUE(earliest_rrsig_expiry(full, 1, kNow).has_value());
  for (std::size_t n = 0; n < full.size(); ++n) {
    // Every prefix: a copy of exactly n bytes, so ASan would catch an over-read.
    const std::string cut = full.substr(0, n);
    EXPECT_FALSE(earliest_rrsig_expiry(cut, 1, kNow).has_value()) << n;
  }
}

TEST(RrsigExpiryTest, HostilePackets) {
  // Counts far larger than the packet, an rdlength past the end, a label length past the end,
  // a pointer loop as a question name, and a short RRSIG.
  EXPECT_FALSE(earliest_rrsig_expiry(header(65535, 65535), 1, kNow).has_value());
  std::string long_rd = header(0, 1) + std::string("\x00", 1);
  put16(long_rd, 46);
  put16(long_rd, 1);
  put32(long_rd, 0);
  put16(long_rd, 60000);
  long_rd += std::string(20, '\0');
  EXPECT_FALSE(earliest_rrsig_expiry(long_rd, 1, kNow).has_value());
  EXPECT_FALSE(earliest_rrsig_expiry(header(1, 0) + "\x3f" "abc", 1, kNow).has_value());
  const std::string loop = header(1, 1) + std::string("\xc0\x0c", 2) + std::string(4, '\0') +
                           rr(46, rrsig(1, kNowSeconds + 5));
  EXPECT_EQ(earliest_rrsig_expiry(loop, 1, kNow), kNow + std::chrono::seconds(5));
  const std::string short_sig =
      header(0, 1) + rr(46, std::string("\x00\x01\x0d\x02", 4));
  EXPECT_FALSE(earliest_rrsig_expiry(short_sig, 1, kNow).has_value());
  EXPECT_FALSE(earliest_rrsig_expiry("", 1, kNow).has_value());
}

// The Original TTL the zone gave the RRset (the answer's own TTL is the resolver's countdown).
TEST(RrsigOriginalTtlTest, LargestOfTheSignaturesOverTheQtype) {
  const std::string pkt = header(1, 4) + question("_25._tcp.mx.example.test", 52) +
                          rr(52, std::string("\x03\x01\x01", 3) + std::string(32, 'x')) +
                          rr(46, rrsig(52, kNowSeconds + 7200, 300)) +
                          rr(46, rrsig(52, kNowSeconds + 7200, 600)) +
                          rr(46, rrsig(5, kNowSeconds + 7200, 86400));  // the CNAME's, not ours
  EXPECT_EQ(rrsig_original_ttl(pkt, 52), 600u);
  EXPECT_FALSE(rrsig_original_ttl(pkt, 1).has_value());
}

TEST(RrsigOriginalTtlTest, NothingFromAMalformedOrUnsignedPacket) {
  const std::string signed_pkt = header(1, 1) + question("mx.example.test", 1) +
                                 rr(46, rrsig(1, kNowSeconds + 60, 5));
  ASSERT_EQ(rrsig_original_ttl(signed_pkt, 1), 5u);
  for (std::size_t n = 0; n < signed_pkt.size(); ++n) {
    EXPECT_FALSE(rrsig_original_ttl(signed_pkt.substr(0, n), 1).has_value()) << n;
  }
  EXPECT_FALSE(rrsig_original_ttl(header(1, 1) + question("mx.example.test", 1) +
                                      rr(1, encode_address("192.0.2.1")), 1)
                   .has_value());
}

}  // namespace
}  // namespace mailtls::dns
