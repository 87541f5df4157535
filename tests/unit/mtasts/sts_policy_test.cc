// docs/verdicts.md P5/P6 vectors for the policy file.
#include "probes/mtasts/sts_policy.h"

#include <gtest/gtest.h>

#include <string>

namespace mailtls::mtasts {
namespace {

constexpr const char* kGood =
    "version: STSv1\nmode: enforce\nmx: mail.example.com\nmx: *.example.net\nmax_age: 604800\n";

bool has_warning_containing(const StsPolicyResult& r, std::string_view needle) {
  for (const auto& w : r.warnings) {
    if (w.find(needle) != std::string::npos) return true;
  }
  return false;
}

TEST(StsPolicyParse, RfcExampleIsValid) {
  const auto r = parse_sts_policy(kGood);
  ASSERT_TRUE(r.valid()) << r.message;
  EXPECT_EQ(r.policy->mode, StsMode::kEnforce);
  EXPECT_EQ(r.policy->max_age_seconds, 604800);
  EXPECT_EQ(r.policy->mx, (std::vector<std::string>{"mail.example.com", "*.example.net"}));
  EXPECT_TRUE(r.warnings.empty());
}

TEST(StsPolicyParse, CrlfLineEndingsAndNoFinalNewline) {
  const auto r = parse_sts_policy(
      "version: STSv1\r\nmode: testing\r\nmx: mail.example.com\r\nmax_age: 86400");
  ASSERT_TRUE(r.valid()) << r.message;
  EXPECT_EQ(r.policy->mode, StsMode::kTesting);
  EXPECT_EQ(r.policy->mx, (std::vector<std::string>{"mail.example.com"}));
}

TEST(StsPolicyParse, ModeIsCaseSensitive) {
  const auto r = parse_sts_policy(
      "version: STSv1\nmode: Enforce\nmx: mail.example.com\nmax_age: 604800\n");
  EXPECT_EQ(r.error, StsPolicyError::kBadMode);
  EXPECT_FALSE(r.policy);
}

TEST(StsPolicyParse, MissingMaxAgeIsInvalid) {
  EXPECT_EQ(parse_sts_policy("version: STSv1\nmode: enforce\nmx: mail.example.com\n").error,
            StsPolicyError::kMissingMaxAge);
}

TEST(StsPolicyParse, MaxAgeBounds) {
  const std::string head = "version: STSv1\nmode: enforce\nmx: mail.example.com\nmax_age: ";
  EXPECT_EQ(parse_sts_policy(head + "31557601\n").error, StsPolicyError::kBadMaxAge);
  EXPECT_TRUE(parse_sts_policy(head + "31557600\n").valid());
  EXPECT_EQ(parse_sts_policy(head + "604800s\n").error, StsPolicyError::kBadMaxAge);
  EXPECT_EQ(parse_sts_policy(head + "12345678901\n").error, StsPolicyError::kBadMaxAge);
  EXPECT_EQ(parse_sts_policy(head + "-1\n").error, StsPolicyError::kBadMaxAge);
  EXPECT_EQ(parse_sts_policy(head + "\n").error, StsPolicyError::kBadMaxAge);
  EXPECT_EQ(parse_sts_policy(head + "0000604800\n").policy->max_age_seconds, 604800);
}

TEST(StsPolicyParse, ModeNoneNeedsNoMx) {
  const auto r = parse_sts_policy("version: STSv1\nmode: none\nmax_age: 86400");
  ASSERT_TRUE(r.valid()) << r.message;
  EXPECT_EQ(r.policy->mode, StsMode::kNone);
  EXPECT_TRUE(r.policy->mx.empty());
}

TEST(StsPolicyParse, EnforceAndTestingNeedMx) {
  EXPECT_EQ(parse_sts_policy("version: STSv1\nmode: enforce\nmax_age: 86400\n").error,
            StsPolicyError::kMissingMx);
  EXPECT_EQ(parse_sts_policy("version: STSv1\nmode: testing\nmax_age: 86400\n").error,
            StsPolicyError::kMissingMx);
}

TEST(StsPolicyParse, FirstOfDuplicateNonMxKeysWins) {
  const auto r = parse_sts_policy(
      "version: STSv1\nmode: enforce\nmode: testing\nmx: a.example\nmax_age: 604800\n"
      "max_age: 1\n");
  ASSERT_TRUE(r.valid()) << r.message;
  EXPECT_EQ(r.policy->mode, StsMode::kEnforce);
  EXPECT_EQ(r.policy->max_age_seconds, 604800);
  EXPECT_TRUE(has_warning_containing(r, "duplicate key \"mode\""));
}

TEST(StsPolicyParse, ByteOrderMarkIsInvalid) {
  const auto r = parse_sts_policy(std::string("\xEF\xBB\xBF") + kGood);
  EXPECT_EQ(r.error, StsPolicyError::kByteOrderMark);
}

TEST(StsPolicyParse, MxMustBeALabels) {
  const auto r = parse_sts_policy(
      "version: STSv1\nmode: enforce\nmx: b\xc3\xbc" "cher.example\nmax_age: 604800\n");
  EXPECT_EQ(r.error, StsPolicyError::kBadMx);
  EXPECT_NE(r.message.find("A-label"), std::string::npos) << r.message;
  EXPECT_TRUE(parse_sts_policy(
                  "version: STSv1\nmode: enforce\nmx: xn--bcher-kva.example\nmax_age: 604800\n")
                  .valid());
}

TEST(StsPolicyParse, BadMxPatterns) {
  for (const char* mx : {"", "*", "*.", "a.*.example", "**.example", "-a.example", "a-.example",
                         "a..example", "a_b.example", "mail.example.com:25"}) {
    const auto r = parse_sts_policy(std::string("version: STSv1\nmode: enforce\nmx: ") + mx +
                                    "\nmax_age: 604800\n");
    EXPECT_EQ(r.error, StsPolicyError::kBadMx) << "mx: " << mx;
  }
}

TEST(StsPolicyParse, TrailingDotMxIsAcceptedWithWarning) {
  const auto r = parse_sts_policy(
      "version: STSv1\nmode: enforce\nmx: mail.example.com.\nmax_age: 604800\n");
  ASSERT_TRUE(r.valid()) << r.message;
  EXPECT_EQ(r.policy->mx, (std::vector<std::string>{"mail.example.com"}));
  EXPECT_TRUE(has_warning_containing(r, "ends with a dot"));
}

TEST(StsPolicyParse, TrailingWhitespaceIsAllowed) {
  const auto r = parse_sts_policy(
      "version: STSv1 \nmode: enforce\t\r\nmx: mail.example.com  \nmax_age: 604800 \n");
  ASSERT_TRUE(r.valid()) << r.message;
  EXPECT_EQ(r.policy->mx[0], "mail.example.com");
}

TEST(StsPolicyParse, UnknownKeysAreIgnoredButMustBeWellFormed) {
  EXPECT_TRUE(parse_sts_policy(std::string(kGood) + "comment: anything goes here\n").valid());
  EXPECT_EQ(parse_sts_policy(std::string(kGood) + "_bad: x\n").error, StsPolicyError::kBadLine);
  EXPECT_EQ(parse_sts_policy(std::string(kGood) + "just some text\n").error,
            StsPolicyError::kBadLine);
  EXPECT_EQ(parse_sts_policy(std::string("mode : enforce\n") + kGood).error,
            StsPolicyError::kBadLine);
}

TEST(StsPolicyParse, VersionRequiredAndExact) {
  EXPECT_EQ(parse_sts_policy("mode: enforce\nmx: a.example\nmax_age: 604800\n").error,
            StsPolicyError::kMissingVersion);
  EXPECT_EQ(parse_sts_policy("version: STSv2\nmode: enforce\nmx: a.example\nmax_age: 604800\n")
                .error,
            StsPolicyError::kBadVersion);
  // No rule that version comes first in the policy file.
  EXPECT_TRUE(
      parse_sts_policy("mode: enforce\nmx: a.example\nmax_age: 604800\nversion: STSv1\n").valid());
}

TEST(StsPolicyParse, MissingModeAndEmpty) {
  EXPECT_EQ(parse_sts_policy("version: STSv1\nmx: a.example\nmax_age: 604800\n").error,
            StsPolicyError::kMissingMode);
  EXPECT_EQ(parse_sts_policy("").error, StsPolicyError::kEmpty);
  EXPECT_EQ(parse_sts_policy("\r\n\n").error, StsPolicyError::kEmpty);
}

TEST(StsPolicyParse, HtmlCatchAllPageIsInvalid) {
  EXPECT_FALSE(parse_sts_policy("<!DOCTYPE html>\n<html><body>Not found</body></html>\n").valid());
}

TEST(StsPolicyParse, ShortMaxAgeInEnforceWarns) {
  const auto r = parse_sts_policy("version: STSv1\nmode: enforce\nmx: a.example\nmax_age: 3600\n");
  ASSERT_TRUE(r.valid()) << r.message;
  EXPECT_TRUE(has_warning_containing(r, "under one day"));
  const auto t = parse_sts_policy("version: STSv1\nmode: testing\nmx: a.example\nmax_age: 3600\n");
  EXPECT_FALSE(has_warning_containing(t, "under one day"));
}

TEST(StsPolicyParse, ControlCharactersAreInvalid) {
  EXPECT_EQ(parse_sts_policy(std::string("version: STSv1\nmode: enforce\rx\nmx: a.example\n"
                                         "max_age: 604800\n"))
                .error,
            StsPolicyError::kBadLine);
}

}  // namespace
}  // namespace mailtls::mtasts
