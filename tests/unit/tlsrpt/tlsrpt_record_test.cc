// docs/verdicts.md R1/R2 vectors for the _smtp._tls TXT record (RFC 8460 §3).
#include "probes/tlsrpt/tlsrpt_record.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace mailtls::tlsrpt {
namespace {

using ::testing::ElementsAre;
using E = TlsRptRecordError;

TEST(TlsRptRecord, R1SingleValidRecord) {
  const auto r = parse_tlsrpt_rrset({"v=TLSRPTv1; rua=mailto:tlsrpt@example.com"});
  ASSERT_TRUE(r.valid()) << r.message;
  EXPECT_THAT(r.record.rua, ElementsAre("mailto:tlsrpt@example.com"));
  EXPECT_EQ(r.discarded, 0);
}

TEST(TlsRptRecord, R1TwoRecordsMeanNoTlsRpt) {
  const auto r = parse_tlsrpt_rrset(
      {"v=TLSRPTv1; rua=mailto:a@example.com", "v=TLSRPTv1; rua=https://r.example.com/tlsrpt"});
  EXPECT_EQ(r.error, E::kMultipleRecords);
  EXPECT_EQ(error_label(r.error), "multiple_records");
}

TEST(TlsRptRecord, R1TypoVersionIsNotTlsRpt) {
  const auto r = parse_tlsrpt_rrset({"v=TSLRPTv1; rua=mailto:a@example.com"});
  EXPECT_EQ(r.error, E::kNoRecord);
  EXPECT_EQ(r.discarded, 1);
}

TEST(TlsRptRecord, R1OtherTxtRecordsAreDiscarded) {
  const auto r = parse_tlsrpt_rrset({"v=spf1 -all", "v=TLSRPTv1;rua=mailto:a@example.com",
                                     "v=TLSRPTv10;rua=mailto:b@example.com"});
  ASSERT_TRUE(r.valid()) << r.message;
  EXPECT_EQ(r.discarded, 2);
  EXPECT_THAT(r.record.rua, ElementsAre("mailto:a@example.com"));
}

TEST(TlsRptRecord, R1EmptyRrset) {
  EXPECT_EQ(parse_tlsrpt_rrset({}).error, E::kNoRecord);
}

TEST(TlsRptRecord, R1VersionIsCaseSensitive) {
  EXPECT_EQ(parse_tlsrpt_rrset({"v=tlsrptv1; rua=mailto:a@example.com"}).error, E::kNoRecord);
}

TEST(TlsRptRecord, R2TwoUris) {
  const auto r = parse_tlsrpt_record("v=TLSRPTv1;rua=mailto:a@example.com,https://r.example.com/tlsrpt");
  ASSERT_TRUE(r.valid()) << r.message;
  EXPECT_THAT(r.record.rua, ElementsAre("mailto:a@example.com", "https://r.example.com/tlsrpt"));
}

TEST(TlsRptRecord, R2WhitespaceAroundCommasAndDelimiters) {
  const auto r = parse_tlsrpt_record("v=TLSRPTv1 ;\trua=mailto:a@example.com , https://r.example.com/x ;");
  ASSERT_TRUE(r.valid()) << r.message;
  EXPECT_THAT(r.record.rua, ElementsAre("mailto:a@example.com", "https://r.example.com/x"));
}

TEST(TlsRptRecord, R2NoSchemeIsInvalid) {
  EXPECT_EQ(parse_tlsrpt_record("v=TLSRPTv1; rua=tlsrpt@example.com").error, E::kUnsupportedScheme);
}

TEST(TlsRptRecord, R2HttpIsInvalid) {
  const auto r = parse_tlsrpt_record("v=TLSRPTv1; rua=http://r.example.com/");
  EXPECT_EQ(r.error, E::kUnsupportedScheme);
  EXPECT_THAT(r.message, ::testing::HasSubstr("http"));
}

TEST(TlsRptRecord, R2DmarcSizeSuffixIsInvalid) {
  EXPECT_EQ(parse_tlsrpt_record("v=TLSRPTv1; rua=mailto:a@example.com!10m").error, E::kUnencodedReservedChar);
}

TEST(TlsRptRecord, R2PercentEncodedBangIsFine) {
  const auto r = parse_tlsrpt_record("v=TLSRPTv1; rua=mailto:a%21b@example.com");
  ASSERT_TRUE(r.valid()) << r.message;
  EXPECT_THAT(r.record.rua, ElementsAre("mailto:a%21b@example.com"));
}

TEST(TlsRptRecord, R2BadPercentEncoding) {
  EXPECT_EQ(parse_tlsrpt_record("v=TLSRPTv1; rua=mailto:a%2@example.com").error, E::kBadUri);
}

TEST(TlsRptRecord, R2VersionAloneHasNoRua) {
  EXPECT_EQ(parse_tlsrpt_record("v=TLSRPTv1").error, E::kMissingRua);
  EXPECT_EQ(parse_tlsrpt_record("v=TLSRPTv1;").error, E::kMissingRua);
  EXPECT_EQ(parse_tlsrpt_rrset({"v=TLSRPTv1"}).error, E::kMissingRua);
}

TEST(TlsRptRecord, R2VersionMustComeFirst) {
  const auto r = parse_tlsrpt_rrset({"rua=mailto:a@x; v=TLSRPTv1"});
  EXPECT_EQ(r.error, E::kNoRecord);
  EXPECT_EQ(r.discarded, 1);
}

TEST(TlsRptRecord, R2UnknownFieldsAreIgnored) {
  const auto r = parse_tlsrpt_record("v=TLSRPTv1; rua=mailto:a@example.com; foo=bar");
  ASSERT_TRUE(r.valid()) << r.message;
  EXPECT_THAT(r.record.rua, ElementsAre("mailto:a@example.com"));
}

TEST(TlsRptRecord, R2RuaNameIsCaseSensitive) {
  // %s"rua=": "RUA=" is an (ignored) extension field, so rua is missing.
  EXPECT_EQ(parse_tlsrpt_record("v=TLSRPTv1; RUA=mailto:a@example.com").error, E::kMissingRua);
}

TEST(TlsRptRecord, R2SchemeIsCaseInsensitive) {
  EXPECT_TRUE(parse_tlsrpt_record("v=TLSRPTv1; rua=MAILTO:a@example.com,HTTPS://r.example.com/").valid());
}

TEST(TlsRptRecord, SyntaxErrors) {
  EXPECT_EQ(parse_tlsrpt_record("v=TLSRPTv1 rua=mailto:a@example.com").error, E::kSyntax);
  EXPECT_EQ(parse_tlsrpt_record("v=TLSRPTv1;;rua=mailto:a@example.com").error, E::kSyntax);
  EXPECT_EQ(parse_tlsrpt_record("v=TLSRPTv1; rua=mailto:a@example.com; junk").error, E::kSyntax);
  // An unencoded ';' inside a URI ends the field; what follows is not name=value.
  EXPECT_EQ(parse_tlsrpt_record("v=TLSRPTv1; rua=https://r.example.com/a;b").error, E::kSyntax);
}

TEST(TlsRptRecord, BadUris) {
  EXPECT_EQ(parse_tlsrpt_record("v=TLSRPTv1; rua=").error, E::kBadUri);
  EXPECT_EQ(parse_tlsrpt_record("v=TLSRPTv1; rua=mailto:a@example.com,").error, E::kBadUri);
  EXPECT_EQ(parse_tlsrpt_record("v=TLSRPTv1; rua=mailto:example.com").error, E::kBadUri);
  EXPECT_EQ(parse_tlsrpt_record("v=TLSRPTv1; rua=https:/r.example.com").error, E::kBadUri);
  EXPECT_EQ(parse_tlsrpt_record("v=TLSRPTv1; rua=https:///path").error, E::kBadUri);
  EXPECT_EQ(parse_tlsrpt_record("v=TLSRPTv1; rua=mailto:a b@example.com").error, E::kBadUri);
}

TEST(TlsRptRecord, DuplicateRuaIsRefused) {
  EXPECT_EQ(parse_tlsrpt_record("v=TLSRPTv1; rua=mailto:a@example.com; rua=mailto:b@example.com").error,
            E::kDuplicateRua);
}

}  // namespace
}  // namespace mailtls::tlsrpt
