// docs/verdicts.md P8 vectors for mx pattern matching.
#include "probes/mtasts/mx_pattern.h"

#include <gtest/gtest.h>

namespace mailtls::mtasts {
namespace {

TEST(MxPattern, WildcardMatchesOneLabel) {
  EXPECT_TRUE(mx_pattern_matches("*.example.com", "mail.example.com"));
}

TEST(MxPattern, WildcardDoesNotMatchTheBareDomain) {
  EXPECT_FALSE(mx_pattern_matches("*.example.com", "example.com"));
}

TEST(MxPattern, WildcardDoesNotMatchTwoLabels) {
  EXPECT_FALSE(mx_pattern_matches("*.example.com", "foo.bar.example.com"));
}

TEST(MxPattern, CaseAndTrailingDotAreIgnored) {
  EXPECT_TRUE(mx_pattern_matches("mail.example.com", "MAIL.Example.COM."));
  EXPECT_TRUE(mx_pattern_matches("*.EXAMPLE.com.", "mx1.example.COM"));
}

TEST(MxPattern, GoogleWildcardDoesNotCoverDeeperHosts) {
  EXPECT_FALSE(mx_pattern_matches("*.google.com", "aspmx.l.google.com"));
  EXPECT_TRUE(mx_pattern_matches("aspmx.l.google.com", "aspmx.l.google.com"));
  EXPECT_TRUE(mx_pattern_matches("*.aspmx.l.google.com", "alt1.aspmx.l.google.com"));
}

TEST(MxPattern, NoPartialOrInnerWildcards) {
  EXPECT_FALSE(mx_pattern_matches("mx*.example.com", "mx1.example.com"));
  EXPECT_FALSE(mx_pattern_matches("a.*.example.com", "a.b.example.com"));
  EXPECT_FALSE(mx_pattern_matches("*", "example"));
  EXPECT_FALSE(mx_pattern_matches("*.example.com", ".example.com"));
  EXPECT_FALSE(mx_pattern_matches("", ""));
}

TEST(MxPattern, ExactPatternDoesNotMatchSubdomainOrSuffix) {
  EXPECT_FALSE(mx_pattern_matches("example.com", "mail.example.com"));
  EXPECT_FALSE(mx_pattern_matches("mail.example.com", "xmail.example.com"));
  EXPECT_FALSE(mx_pattern_matches("*.example.com", "mail.notexample.com"));
}

TEST(MxCoverage, EveryHostGetsAnEntryWithTheFirstMatchingPattern) {
  const auto c = check_mx_coverage({"mail.example.com", "*.example.net"},
                                   {"MAIL.example.com.", "mx.example.net", "example.net"});
  ASSERT_EQ(c.size(), 3u);
  EXPECT_TRUE(c[0].covered);
  EXPECT_EQ(c[0].matched_pattern, "mail.example.com");
  EXPECT_EQ(c[0].mx_host, "MAIL.example.com.");
  EXPECT_TRUE(c[1].covered);
  EXPECT_EQ(c[1].matched_pattern, "*.example.net");
  EXPECT_FALSE(c[2].covered);
  EXPECT_TRUE(c[2].matched_pattern.empty());
}

TEST(MxCoverage, NoPatternsCoverNothing) {
  const auto c = check_mx_coverage({}, {"mail.example.com"});
  ASSERT_EQ(c.size(), 1u);
  EXPECT_FALSE(c[0].covered);
}

// MX hosts whose labels hold other octets arrive in presentation format ("\." for a dot
// inside a label, "\DDD" for the rest): no pattern may match them, not even one spelling
// the same escapes, and a literal dot must not pass for a label boundary.
TEST(MxPatternTest, NamesWithEscapesNeverMatch) {
  EXPECT_FALSE(mx_pattern_matches("*.b.example", "a\\.b.example"));
  EXPECT_FALSE(mx_pattern_matches("a\\.b.example", "a\\.b.example"));
  EXPECT_FALSE(mx_pattern_matches("*.example", "\\255\\027.example"));
  EXPECT_FALSE(mx_pattern_matches("\\255\\027.example", "\\255\\027.example"));
  EXPECT_TRUE(mx_pattern_matches("*.example", "mx.example"));
}

}  // namespace
}  // namespace mailtls::mtasts
