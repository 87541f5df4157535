// docs/verdicts.md P1/P2 vectors for the _mta-sts TXT record.
#include "probes/mtasts/sts_txt_record.h"

#include <gtest/gtest.h>

#include <string>

#include "probes/dns/records.h"

namespace mailtls::mtasts {
namespace {

bool has_warning_containing(const StsTxtResult& r, std::string_view needle) {
  for (const auto& w : r.warnings) {
    if (w.find(needle) != std::string::npos) return true;
  }
  return false;
}

// P1: several character-strings are concatenated without spaces.
TEST(StsTxtSelection, MultiStringRecordIsConcatenatedWithoutSpaces) {
  dns::Answer a;
  a.outcome = dns::Outcome::kData;
  a.security = dns::Security::kSecure;
  a.rdata = {dns::encode_txt({"v=STSv1; id=2024", "0101"})};
  const auto decoded = dns::decode_txt(a);
  ASSERT_EQ(decoded.records.size(), 1u);
  const auto r = select_sts_txt_record(decoded.records);
  ASSERT_TRUE(r.valid()) << r.message;
  EXPECT_EQ(r.record.id, "20240101");
}

TEST(StsTxtSelection, NonStsRecordIsIgnored) {
  const auto r = select_sts_txt_record({"v=spf1 -all", "v=STSv1; id=1"});
  ASSERT_TRUE(r.valid()) << r.message;
  EXPECT_EQ(r.record.id, "1");
  EXPECT_EQ(r.discarded, 1);
  EXPECT_EQ(r.sts_records, 1);
}

TEST(StsTxtSelection, TwoStsRecordsMeanNoPolicy) {
  const auto r = select_sts_txt_record({"v=STSv1; id=1", "v=STSv1; id=2"});
  EXPECT_EQ(r.error, StsTxtError::kMultipleRecords);
  EXPECT_EQ(error_label(r.error), "multiple_records");
  EXPECT_NE(r.message.find("2 STS records"), std::string::npos) << r.message;
  EXPECT_EQ(r.sts_records, 2);
}

TEST(StsTxtSelection, SpaceBeforeSemicolonIsDiscardedAmongSeveralWithWarning) {
  const auto r = select_sts_txt_record({"v=STSv1 ; id=1", "v=STSv1; id=2"});
  ASSERT_TRUE(r.valid()) << r.message;
  EXPECT_EQ(r.record.id, "2");
  EXPECT_EQ(r.discarded, 1);
  EXPECT_TRUE(has_warning_containing(r, "6285"));
}

TEST(StsTxtSelection, SpaceBeforeSemicolonAloneAmongSeveralLeavesNoPolicy) {
  const auto r = select_sts_txt_record({"v=STSv1 ; id=1", "v=spf1 -all"});
  EXPECT_FALSE(r.valid());
  EXPECT_NE(r.error, StsTxtError::kNoRecord) << "an intended policy record must not read as absent";
  EXPECT_EQ(r.sts_records, 0);
}

TEST(StsTxtSelection, SingleRecordWithSpaceBeforeSemicolonFollowsTheAbnfWithWarning) {
  const auto r = select_sts_txt_record({"v=STSv1 ; id=1"});
  ASSERT_TRUE(r.valid()) << r.message;
  EXPECT_EQ(r.record.id, "1");
  EXPECT_TRUE(has_warning_containing(r, "6285"));
}

TEST(StsTxtSelection, EmptyOrForeignRrsetIsNoRecord) {
  EXPECT_EQ(select_sts_txt_record({}).error, StsTxtError::kNoRecord);
  EXPECT_EQ(select_sts_txt_record({"v=spf1 -all"}).error, StsTxtError::kNoRecord);
  EXPECT_EQ(select_sts_txt_record({"v=spf1 -all", "google-site-verification=x"}).error,
            StsTxtError::kNoRecord);
}

TEST(StsTxtSelection, OneRemainingInvalidRecordMeansNoPolicy) {
  const auto r = select_sts_txt_record({"v=STSv1; id=bad-id", "v=spf1 -all"});
  EXPECT_EQ(r.error, StsTxtError::kBadId);
}

// P2 grammar vectors.
TEST(StsTxtParse, TrailingDelimiterIsValid) {
  const auto r = parse_sts_txt_record("v=STSv1; id=20160831085700Z;");
  ASSERT_TRUE(r.valid()) << r.message;
  EXPECT_EQ(r.record.id, "20160831085700Z");
  EXPECT_TRUE(r.warnings.empty());
}

TEST(StsTxtParse, NoSpaceAfterSemicolonIsValid) {
  const auto r = parse_sts_txt_record("v=STSv1;id=abc");
  ASSERT_TRUE(r.valid()) << r.message;
  EXPECT_EQ(r.record.id, "abc");
}

TEST(StsTxtParse, HyphenInIdIsInvalid) {
  const auto r = parse_sts_txt_record("v=STSv1; id=2024-01-01");
  EXPECT_EQ(r.error, StsTxtError::kBadId);
}

TEST(StsTxtParse, IdOf33CharactersIsInvalidAnd32IsValid) {
  EXPECT_EQ(parse_sts_txt_record("v=STSv1; id=" + std::string(33, 'a')).error,
            StsTxtError::kBadId);
  EXPECT_TRUE(parse_sts_txt_record("v=STSv1; id=" + std::string(32, 'a')).valid());
}

TEST(StsTxtParse, VersionAloneHasNoId) {
  EXPECT_EQ(parse_sts_txt_record("v=STSv1").error, StsTxtError::kMissingId);
  EXPECT_EQ(parse_sts_txt_record("v=STSv1;").error, StsTxtError::kMissingId);
  EXPECT_EQ(parse_sts_txt_record("v=STSv1; foo=bar").error, StsTxtError::kMissingId);
}

TEST(StsTxtParse, VersionIsCaseSensitive) {
  EXPECT_EQ(parse_sts_txt_record("V=STSv1; id=1").error, StsTxtError::kBadVersion);
  EXPECT_EQ(parse_sts_txt_record("v=stsv1; id=1").error, StsTxtError::kBadVersion);
  EXPECT_EQ(parse_sts_txt_record("v=STSv12; id=1").error, StsTxtError::kBadVersion);
  // A single record of the wrong case is an STS record with an error, not an absent one.
  EXPECT_EQ(select_sts_txt_record({"V=STSv1; id=1"}).error, StsTxtError::kBadVersion);
}

TEST(StsTxtParse, ExtensionFieldIsValid) {
  const auto r = parse_sts_txt_record("v=STSv1; id=1; foo=bar");
  ASSERT_TRUE(r.valid()) << r.message;
  ASSERT_EQ(r.record.extensions.size(), 1u);
  EXPECT_EQ(r.record.extensions[0].first, "foo");
  EXPECT_EQ(r.record.extensions[0].second, "bar");
}

TEST(StsTxtParse, FieldsAfterVersionInAnyOrder) {
  const auto r = parse_sts_txt_record("v=STSv1; ext_1.a-b=x:y; id=7");
  ASSERT_TRUE(r.valid()) << r.message;
  EXPECT_EQ(r.record.id, "7");
}

TEST(StsTxtParse, BadExtensions) {
  EXPECT_EQ(parse_sts_txt_record("v=STSv1; id=1; _foo=bar").error, StsTxtError::kBadExtension);
  EXPECT_EQ(parse_sts_txt_record("v=STSv1; id=1; foo=").error, StsTxtError::kBadExtension);
  EXPECT_EQ(parse_sts_txt_record("v=STSv1; id=1; foo=a=b").error, StsTxtError::kBadExtension);
  EXPECT_EQ(parse_sts_txt_record("v=STSv1; id=1; " + std::string(33, 'a') + "=b").error,
            StsTxtError::kBadExtension);
}

TEST(StsTxtParse, SyntaxErrors) {
  EXPECT_EQ(parse_sts_txt_record("v=STSv1 id=1").error, StsTxtError::kSyntax);
  EXPECT_EQ(parse_sts_txt_record("v=STSv1; id=1 foo=bar").error, StsTxtError::kSyntax);
  EXPECT_EQ(parse_sts_txt_record("v=STSv1; id").error, StsTxtError::kSyntax);
  EXPECT_EQ(parse_sts_txt_record("v=STSv1; id =1").error, StsTxtError::kSyntax);
  EXPECT_EQ(parse_sts_txt_record("v=STSv1;; id=1").error, StsTxtError::kSyntax);
}

TEST(StsTxtParse, DuplicateFieldsKeepTheFirst) {
  const auto r = parse_sts_txt_record("v=STSv1; id=first; id=second; a=1; a=2");
  ASSERT_TRUE(r.valid()) << r.message;
  EXPECT_EQ(r.record.id, "first");
  ASSERT_EQ(r.record.extensions.size(), 1u);
  EXPECT_EQ(r.record.extensions[0].second, "1");
  EXPECT_EQ(r.warnings.size(), 2u);
}

TEST(StsTxtParse, WhitespaceAroundDelimitersAndTabs) {
  const auto r = parse_sts_txt_record("v=STSv1;\t id=1 ;\tfoo=bar ; ");
  ASSERT_TRUE(r.valid()) << r.message;
  EXPECT_EQ(r.record.id, "1");
  EXPECT_TRUE(r.warnings.empty());
}

TEST(StsTxtParse, TrailingWhitespaceIsAcceptedWithWarning) {
  const auto r = parse_sts_txt_record("v=STSv1; id=1 ");
  ASSERT_TRUE(r.valid()) << r.message;
  EXPECT_TRUE(has_warning_containing(r, "trailing whitespace"));
}

TEST(StsTxtParse, NonAsciiIsRejected) {
  EXPECT_EQ(parse_sts_txt_record("v=STSv1; id=1; x=caf\xc3\xa9").error, StsTxtError::kNotAscii);
  EXPECT_EQ(parse_sts_txt_record(std::string("v=STSv1; id=1\0", 14)).error,
            StsTxtError::kNotAscii);
}

}  // namespace
}  // namespace mailtls::mtasts
