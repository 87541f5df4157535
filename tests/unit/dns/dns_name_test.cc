// Names with any octets in their labels (RFC 2181 §11): carried in presentation format after
// the wire parser, asked about again exactly as published (review finding 1/2).

#include "probes/dns/dns_name.h"

#include <gtest/gtest.h>

#include "probes/base/printable_text.h"
#include "probes/dns/records.h"
#include "probes/dns/ub_result_classification.h"

namespace mailtls::dns {
namespace {

using namespace std::string_literals;

// The MX target of the review: non-UTF-8 bytes, an ESC sequence, a newline and a literal dot
// in the first label.
const std::string kHostileLabel = "\xff\xfe\x1b[2J\n.X"s;
const std::string kHostileWire = "\x09"s + kHostileLabel + "\x07" "example\x00"s;
const std::string kHostilePresentation = "\\255\\254\\027[2j\\010\\.x.example";

Answer mx_answer(std::vector<std::string> rdata) {
  Answer a;
  a.qname = "example";
  a.type = RrType::kMx;
  a.outcome = Outcome::kData;
  a.security = Security::kSecure;
  a.rdata = std::move(rdata);
  return a;
}

TEST(DnsName, MxTargetWithAnyOctetsDecodesToPresentationFormat) {
  const auto d = decode_mx(mx_answer({"\x00\x0a"s + kHostileWire}));
  ASSERT_EQ(d.records.size(), 1u);
  EXPECT_EQ(d.records[0].host, kHostilePresentation);
  EXPECT_TRUE(is_printable_text(d.records[0].host));
  EXPECT_FALSE(is_host_name(d.records[0].host));
}

TEST(DnsName, PresentationRoundTripsToTheSameWireName) {
  // Lower-cased: DNS compares ASCII letters without case; every other octet is kept.
  std::string lowered_wire = kHostileWire;
  lowered_wire[1 + 5] = 'j';
  lowered_wire[1 + 8] = 'x';
  EXPECT_EQ(presentation_to_wire(kHostilePresentation), lowered_wire);
  EXPECT_EQ(encode_name(kHostilePresentation), lowered_wire);
  const auto d = decode_mx(mx_answer({encode_mx(5, kHostilePresentation)}));
  ASSERT_EQ(d.records.size(), 1u);
  EXPECT_EQ(d.records[0].host, kHostilePresentation);
  // Every octet value survives the trip.
  std::string label;
  for (int b = 0; b < 63; ++b) label.push_back(static_cast<char>(b * 4 + 1));
  const std::string wire = "\x3f"s + label + "\x00"s;
  std::size_t pos = 0;
  std::string name;
  ASSERT_TRUE(read_message_name(wire, pos, name));
  EXPECT_EQ(pos, wire.size());
  std::string lowered = wire;
  for (char& c : lowered) c = (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c;
  EXPECT_EQ(presentation_to_wire(name), lowered);
}

TEST(DnsName, EscapesAsDigPrintsThem) {
  std::string out;
  append_presentation_label(out, "a b.c\\d\"e(f)g;h@i$j~\x7f\x80Z");
  EXPECT_EQ(out, "a\\032b\\.c\\\\d\\\"e\\(f\\)g\\;h\\@i\\$j~\\127\\128z");
}

TEST(DnsName, MalformedPresentationIsRefused) {
  EXPECT_FALSE(presentation_to_wire("a..b"));
  EXPECT_FALSE(presentation_to_wire("a\\"));
  EXPECT_FALSE(presentation_to_wire("a\\25"));
  EXPECT_FALSE(presentation_to_wire("a\\256.b"));
  EXPECT_FALSE(presentation_to_wire(std::string(64, 'a') + ".b"));
  EXPECT_FALSE(presentation_to_wire(std::string(63, 'a') + "." + std::string(63, 'a') + "." +
                                    std::string(63, 'a') + "." + std::string(63, 'a')));
  EXPECT_EQ(presentation_to_wire(""), "\x00"s);
  EXPECT_EQ(presentation_to_wire("."), "\x00"s);
  EXPECT_EQ(presentation_to_wire("A.b."), "\x01" "a\x01" "b\x00"s);
}

TEST(DnsName, AnEscapedTrailingDotIsPartOfTheName) {
  EXPECT_EQ(without_root_dot("a.example."), "a.example");
  EXPECT_EQ(without_root_dot("a\\."), "a\\.");
  EXPECT_EQ(without_root_dot("a\\\\."), "a\\\\");
  EXPECT_EQ(normalize_name("X\\.."), "x\\.");
  EXPECT_EQ(normalize_name("Example.TEST."), "example.test");
  EXPECT_EQ(presentation_to_wire("x\\."), "\x02x.\x00"s);
}

TEST(DnsName, HostNamesAreLettersDigitsHyphensUnderscores) {
  EXPECT_TRUE(is_host_name("mx1.example.com"));
  EXPECT_TRUE(is_host_name("_25._tcp.mx.example.com."));
  EXPECT_FALSE(is_host_name("a\\.b.example"));
  EXPECT_FALSE(is_host_name("\\255.example"));
  EXPECT_FALSE(is_host_name("a..b"));
  EXPECT_FALSE(is_host_name(""));
  EXPECT_FALSE(is_host_name("*.example"));
  EXPECT_FALSE(is_host_name(std::string(64, 'a') + ".b"));
}

// A reply message: header, the question, then the given answer records.
std::string message(const std::string& qname_wire, std::uint16_t qtype,
                    const std::vector<std::string>& answers) {
  std::string m("\x12\x34\x81\x80\x00\x01\x00"s);
  m.push_back(static_cast<char>(answers.size()));
  m += "\x00\x00\x00\x00"s;
  m += qname_wire;
  m += std::string{0, static_cast<char>(qtype), 0, 1};
  for (const auto& rr : answers) m += rr;
  return m;
}

std::string rr(const std::string& owner_wire, std::uint16_t type, const std::string& rdata) {
  std::string r = owner_wire;
  r += std::string{0, static_cast<char>(type), 0, 1, 0, 0, 1, 0};
  r.push_back(static_cast<char>(rdata.size() >> 8));
  r.push_back(static_cast<char>(rdata.size() & 0xff));
  return r + rdata;
}

TEST(DnsName, CanonicalNameFollowsTheCnameChainInTheAnswer) {
  const std::string q = encode_name("mx.example");
  const std::string hop = encode_name("\\255\\.hop.example");
  const std::string end = encode_name("end.example");
  const std::string m = message(q, 1,
                                {rr("\xc0\x0c"s, 5, hop), rr(hop, 5, end),
                                 rr(end, 1, "\x7f\x00\x00\x01"s)});
  EXPECT_EQ(canonical_name_in_message(m, "mx.example"), "end.example");
  // Not an alias: the question name itself, escapes and all.
  const std::string h = encode_name(kHostilePresentation);
  EXPECT_EQ(canonical_name_in_message(message(h, 1, {rr("\xc0\x0c"s, 1, "\x7f\x00\x00\x01"s)}),
                                      kHostilePresentation),
            kHostilePresentation);
  // A message about another name, or none, says nothing.
  EXPECT_FALSE(canonical_name_in_message(m, "other.example"));
  EXPECT_FALSE(canonical_name_in_message("", "mx.example"));
  // A pointer loop ends.
  EXPECT_FALSE(canonical_name_in_message(message(q, 1, {rr("\xc0\x1d"s, 5, "\xc0\x1d"s)}),
                                         "mx.example"));
}

TEST(DnsName, LossyCanonnameDoesNotMakeANameAnAliasOfItself) {
  // libunbound prints the name of the review's MX target as "??????[2J??x.example": not the
  // name asked about, so the host looked like an alias (a CNAME query and a TLSA query at a
  // name that does not exist followed).
  UbResultFields f;
  f.rcode = 0;
  f.havedata = true;
  f.secure = true;
  f.ttl = 300;
  f.data = {"\x7f\x00\x00\x01"s};
  f.canonname = "??????[2J??x.example.";
  f.answer_packet = message(encode_name(kHostilePresentation), 1,
                            {rr("\xc0\x0c"s, 1, "\x7f\x00\x00\x01"s)});
  const Answer a = classify_ub_result(kHostilePresentation, RrType::kA, f, SystemTime{});
  EXPECT_EQ(a.qname, kHostilePresentation);
  EXPECT_EQ(a.canonical_name, kHostilePresentation);
  // Without a readable packet, a canonname that lost octets is not believed either.
  f.answer_packet.clear();
  EXPECT_EQ(classify_ub_result(kHostilePresentation, RrType::kA, f, SystemTime{}).canonical_name,
            kHostilePresentation);
}

}  // namespace
}  // namespace mailtls::dns
