// docs/verdicts.md T5 (usable records, presentation hex with spaces), T10 (digest agility), T17.
#include "probes/dane/tlsa_usability.h"

#include <gtest/gtest.h>

#include "probes/base/hex.h"
#include "probes/dane/tlsa_presentation.h"
#include "tests/unit/dane/w1_fixtures.h"

namespace mailtls::dane {
namespace {

using testing::kW1Leaf311;
using testing::kW1Leaf312;
using testing::tlsa;

TEST(TlsaPresentation, ParsesT5VectorUpperCase) {
  auto r = parse_tlsa_presentation("3 1 1 000C701618C4D3B00F049424C49CB81C5CE2F78C164CA8C7DAC46C360E994EE3");
  ASSERT_TRUE(r.record) << r.error;
  EXPECT_EQ(r.record->usage, 3);
  EXPECT_EQ(r.record->selector, 1);
  EXPECT_EQ(r.record->matching_type, 1);
  EXPECT_EQ(to_hex(r.record->data), kW1Leaf311);
  EXPECT_EQ(r.record->data.size(), 32u);
}

TEST(TlsaPresentation, HexSplitByDigIsTheSameRecord) {
  auto split = parse_tlsa_presentation("3 1 1 000C701618C4D3B00F049424C49CB81C5CE2F78C164CA8C7 DAC46C360E994EE3");
  auto whole = parse_tlsa_presentation(std::string("3 1 1 ") + kW1Leaf311);
  ASSERT_TRUE(split.record && whole.record);
  EXPECT_EQ(*split.record, *whole.record);
  auto tabs = parse_tlsa_presentation("  3\t1 1  000c7016 18c4d3b0 0f049424c49cb81c5ce2f78c164ca8c7dac46c360e994ee3\n");
  ASSERT_TRUE(tabs.record) << tabs.error;
  EXPECT_EQ(*tabs.record, *whole.record);
}

TEST(TlsaPresentation, AcceptsRfc7218Mnemonics) {
  auto r = parse_tlsa_presentation(std::string("DANE-EE SPKI SHA2-256 ") + kW1Leaf311);
  ASSERT_TRUE(r.record) << r.error;
  EXPECT_EQ(*r.record, tlsa(std::string("3 1 1 ") + kW1Leaf311));
  auto ta = parse_tlsa_presentation("dane-ta cert sha2-512 00");
  ASSERT_TRUE(ta.record);
  EXPECT_EQ(ta.record->usage, 2);
  EXPECT_EQ(ta.record->selector, 0);
  EXPECT_EQ(ta.record->matching_type, 2);
}

TEST(TlsaPresentation, RejectsMalformedText) {
  EXPECT_FALSE(parse_tlsa_presentation("3 1 1").record);
  EXPECT_FALSE(parse_tlsa_presentation("3 1 1 abc").record);   // odd number of digits
  EXPECT_FALSE(parse_tlsa_presentation("3 1 1 zz").record);    // not hex
  EXPECT_FALSE(parse_tlsa_presentation("256 1 1 00").record);  // out of range
  EXPECT_FALSE(parse_tlsa_presentation("3 x 1 00").record);
  EXPECT_FALSE(parse_tlsa_presentation("").record);
}

TEST(TlsaUsability, T5Vectors) {
  EXPECT_EQ(tlsa_unusable_reason(tlsa(std::string("3 1 1 ") + kW1Leaf311)), TlsaUnusableReason::kNone);
  EXPECT_EQ(tlsa_unusable_reason(tlsa("3 1 1 ABCD")), TlsaUnusableReason::kBadDigestLength);
  EXPECT_EQ(tlsa_unusable_reason(tlsa(std::string("4 1 1 ") + kW1Leaf311)), TlsaUnusableReason::kUnknownUsage);
  EXPECT_EQ(tlsa_unusable_reason(tlsa(std::string("1 1 1 ") + kW1Leaf311)), TlsaUnusableReason::kPkixUsage);
  EXPECT_EQ(tlsa_unusable_reason(tlsa(std::string("0 0 1 ") + kW1Leaf311)), TlsaUnusableReason::kPkixUsage);
  EXPECT_EQ(tlsa_unusable_reason(tlsa(std::string("3 2 1 ") + kW1Leaf311)), TlsaUnusableReason::kUnknownSelector);
  EXPECT_EQ(tlsa_unusable_reason(tlsa(std::string("3 255 1 ") + kW1Leaf311)), TlsaUnusableReason::kUnknownSelector);
  EXPECT_EQ(tlsa_unusable_reason(tlsa(std::string("3 1 3 ") + kW1Leaf311)), TlsaUnusableReason::kUnknownMatchingType);
  EXPECT_EQ(tlsa_unusable_reason(tlsa(std::string("3 1 2 ") + kW1Leaf311)), TlsaUnusableReason::kBadDigestLength);
  EXPECT_EQ(tlsa_unusable_reason(tlsa(std::string("2 0 2 ") + kW1Leaf312)), TlsaUnusableReason::kNone);
  EXPECT_EQ(tlsa_unusable_reason(tlsa("3 1 0 3059")), TlsaUnusableReason::kNone);  // Full: any non-empty length
  EXPECT_EQ(tlsa_unusable_reason(dns::TlsaRecord{3, 1, 0, {}}), TlsaUnusableReason::kEmpty);
  EXPECT_EQ(tlsa_unusable_reason(dns::TlsaRecord{3, 1, 1, {}}), TlsaUnusableReason::kEmpty);
}

TEST(TlsaUsability, ReasonLabelsAreTheDocumentedOnes) {
  EXPECT_EQ(to_string(TlsaUnusableReason::kNone), "usable");
  EXPECT_EQ(to_string(TlsaUnusableReason::kPkixUsage), "pkix_usage");
  EXPECT_EQ(to_string(TlsaUnusableReason::kUnknownUsage), "unknown_usage");
  EXPECT_EQ(to_string(TlsaUnusableReason::kUnknownSelector), "unknown_selector");
  EXPECT_EQ(to_string(TlsaUnusableReason::kUnknownMatchingType), "unknown_matching_type");
  EXPECT_EQ(to_string(TlsaUnusableReason::kBadDigestLength), "bad_digest_length");
  EXPECT_EQ(to_string(TlsaUnusableReason::kEmpty), "empty");
}

TEST(TlsaUsability, AgilityKeepsOnlyTheStrongestDigestPerUsageAndSelector) {
  const std::vector<dns::TlsaRecord> records = {
      tlsa(std::string("3 1 1 ") + kW1Leaf311),  // shadowed by the 3 1 2
      tlsa(std::string("3 1 2 ") + kW1Leaf312),
      tlsa(std::string("3 1 0 ") + testing::kW1Leaf310),  // Full always counts
      tlsa(std::string("3 0 1 ") + kW1Leaf311),  // other selector: its own group
      tlsa(std::string("2 1 1 ") + testing::kW1Ca211),  // other usage: its own group
  };
  auto u = classify_tlsa_records(records);
  ASSERT_EQ(u.size(), 5u);
  for (const auto& x : u) EXPECT_TRUE(x.usable);
  EXPECT_FALSE(u[0].counts);
  EXPECT_TRUE(u[1].counts);
  EXPECT_TRUE(u[2].counts);
  EXPECT_TRUE(u[3].counts);
  EXPECT_TRUE(u[4].counts);
  EXPECT_EQ(count_usable(u), 5);
}

TEST(TlsaUsability, UnusableRecordsAreDiscardedBeforeAgility) {
  // A malformed "3 1 2 abcd" must not shadow a good "3 1 1" (RFC 7671 §9: discard first).
  const std::vector<dns::TlsaRecord> records = {tlsa(std::string("3 1 1 ") + kW1Leaf311), tlsa("3 1 2 abcd"),
                                                tlsa(std::string("1 1 2 ") + kW1Leaf312)};
  auto u = classify_tlsa_records(records);
  EXPECT_TRUE(u[0].usable);
  EXPECT_TRUE(u[0].counts);
  EXPECT_FALSE(u[1].usable);
  EXPECT_FALSE(u[1].counts);
  EXPECT_EQ(u[1].unusable_reason, TlsaUnusableReason::kBadDigestLength);
  EXPECT_FALSE(u[2].counts);
  EXPECT_EQ(count_usable(u), 1);
}

}  // namespace
}  // namespace mailtls::dane
