// The exporter's entry points: HTTP bodies by type (docs/verdicts.md R3), mailed reports and
// the DKIM policy (R4), the counter increments (docs/metrics.md) and the dedup key (R9).
#include "probes/tlsrpt/report_intake.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "tests/unit/tlsrpt/fixture.h"
#include "tests/unit/tlsrpt/gzip_codec.h"

namespace mailtls::tlsrpt {
namespace {

using testing::gzip;
using testing::gzip_repeated;
using testing::read_fixture;
using ::testing::Contains;
using ::testing::HasSubstr;
using ::testing::UnorderedElementsAre;

TEST(ReportIntake, TlsRptGzip) {
  const IntakeResult r = ReportIntake().accept(read_fixture("google-sts.json.gz"), "application/tlsrpt+gzip");
  ASSERT_TRUE(r.ok()) << r.rejection->message;
  EXPECT_EQ(r.report->organization_name, "Google Inc.");
  EXPECT_TRUE(r.notes.empty());
}

TEST(ReportIntake, TlsRptJson) {
  const IntakeResult r = ReportIntake().accept(read_fixture("rfc8460-appendix-b.json"), "application/tlsrpt+json");
  ASSERT_TRUE(r.ok()) << r.rejection->message;
  EXPECT_EQ(r.report->report_id, "5065427c-23d3-47ca-b6e0-946ea0e8c4be");
}

TEST(ReportIntake, ContentTypeParametersAndCase) {
  EXPECT_TRUE(ReportIntake().accept(read_fixture("google-sts.json"), "Application/TLSRPT+JSON; charset=utf-8").ok());
}

TEST(ReportIntake, LenientContentTypesAreAcceptedWithANote) {
  const IntakeResult json = ReportIntake().accept(read_fixture("google-sts.json"), "application/json");
  ASSERT_TRUE(json.ok());
  EXPECT_THAT(json.notes, Contains(HasSubstr("lenient")));
  const IntakeResult gz = ReportIntake().accept(read_fixture("google-sts.json.gz"), "application/gzip");
  ASSERT_TRUE(gz.ok());
  // gzip sniffed under a JSON type.
  const IntakeResult sniffed = ReportIntake().accept(read_fixture("google-sts.json.gz"), "application/tlsrpt+json");
  ASSERT_TRUE(sniffed.ok());
  EXPECT_THAT(sniffed.notes, Contains(HasSubstr("gzip body")));
}

TEST(ReportIntake, OtherContentTypesAreRefused) {
  for (const char* type : {"text/plain", "", "application/x-www-form-urlencoded", "multipart/form-data"}) {
    const IntakeResult r = ReportIntake().accept(read_fixture("google-sts.json"), type);
    ASSERT_FALSE(r.ok()) << type;
    EXPECT_EQ(r.rejection->reason, RejectionReason::kBadContentType) << type;
    EXPECT_EQ(reason_label(r.rejection->reason), "bad_content_type");
  }
}

TEST(ReportIntake, PlainBodyUnderGzipTypeIsBadGzip) {
  const IntakeResult r = ReportIntake().accept(read_fixture("google-sts.json"), "application/tlsrpt+gzip");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.rejection->reason, RejectionReason::kBadGzip);
}

TEST(ReportIntake, CorruptGzipIsBadGzip) {
  std::string gz = read_fixture("google-sts.json.gz");
  gz.resize(gz.size() / 2);
  const IntakeResult r = ReportIntake().accept(gz, "application/tlsrpt+gzip");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.rejection->reason, RejectionReason::kBadGzip);
}

TEST(ReportIntake, BombIsDecompressedTooLarge) {
  IntakeLimits limits;
  limits.max_decompressed_bytes = 1 << 20;
  const IntakeResult r =
      ReportIntake(limits).accept(gzip_repeated(std::string(1 << 20, ' '), 64), "application/tlsrpt+gzip");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.rejection->reason, RejectionReason::kDecompressedTooLarge);
}

TEST(ReportIntake, BodySizeCap) {
  IntakeLimits limits;
  limits.max_body_bytes = 200;
  const IntakeResult r = ReportIntake(limits).accept(read_fixture("google-sts.json"), "application/tlsrpt+json");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.rejection->reason, RejectionReason::kTooLarge);
}

TEST(ReportIntake, JsonAndSchemaErrorsPassThrough) {
  EXPECT_EQ(ReportIntake().accept("{", "application/tlsrpt+json").rejection->reason, RejectionReason::kBadJson);
  EXPECT_EQ(ReportIntake().accept(gzip("[]"), "application/tlsrpt+gzip").rejection->reason,
            RejectionReason::kSchema);
}

TEST(ReportIntake, MailDeferredWithoutAVerifierByDefault) {
  // No verifier (the resolver could not be set up): not the sender's fault, kept for later.
  const IntakeResult r = ReportIntake().accept_mail(read_fixture("mail-multipart-report.eml"), MailAcceptPolicy{});
  ASSERT_FALSE(r.ok());
  EXPECT_TRUE(r.deferred());
  ASSERT_TRUE(r.mail.has_value());
}

TEST(ReportIntake, MailAcceptedWhenUnsignedIsAllowed) {
  const IntakeResult r =
      ReportIntake().accept_mail(read_fixture("mail-multipart-report.eml"), MailAcceptPolicy{.allow_unsigned = true});
  ASSERT_TRUE(r.ok()) << r.rejection->message;
  EXPECT_EQ(r.report->report_id, "2025-06-15T00:00:00Z_example.net");
  EXPECT_THAT(r.notes, Contains(HasSubstr("unsigned")));
  // Submitter google.com matches contact-info smtp-tls-reporting@google.com: no note about it.
  EXPECT_THAT(r.notes, ::testing::Not(Contains(HasSubstr("does not match"))));
  ASSERT_TRUE(r.mail.has_value());
  EXPECT_EQ(r.mail->tls_report_domain, "example.net");
}

TEST(ReportIntake, MailSubmitterMismatchIsNoted) {
  std::string msg = read_fixture("mail-multipart-report.eml");
  const std::string from = "TLS-Report-Submitter: google.com";
  msg.replace(msg.find(from), from.size(), "TLS-Report-Submitter: evil.example");
  const IntakeResult r = ReportIntake().accept_mail(msg, MailAcceptPolicy{.allow_unsigned = true});
  ASSERT_TRUE(r.ok());
  EXPECT_THAT(r.notes, Contains(HasSubstr("does not match")));
}

TEST(ReportIntake, MalformedMailIsMime) {
  const IntakeResult r = ReportIntake().accept_mail(read_fixture("mail-malformed-no-boundary.eml"),
                                                    MailAcceptPolicy{.allow_unsigned = true});
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.rejection->reason, RejectionReason::kMime);
}

TEST(Aggregate, RfcExample) {
  const IntakeResult r = ReportIntake().accept(read_fixture("rfc8460-appendix-b.json"), "application/tlsrpt+json");
  ASSERT_TRUE(r.ok());
  const std::vector<CounterIncrement> inc = aggregate(*r.report);
  const auto session = [](SessionResult result, std::uint64_t n) {
    return CounterIncrement{.counter = Counter::kSessions, .organization = "Company-X",
                            .policy_domain = "company-y.example", .policy_type = PolicyType::kSts,
                            .result = result, .amount = n};
  };
  const auto failure = [](ResultType type, std::uint64_t n) {
    return CounterIncrement{.counter = Counter::kFailures, .organization = "Company-X",
                            .policy_domain = "company-y.example", .result_type = type, .amount = n};
  };
  EXPECT_THAT(inc, UnorderedElementsAre(
                       session(SessionResult::kSuccessful, 5326), session(SessionResult::kFailure, 303),
                       failure(ResultType::kCertificateExpired, 100), failure(ResultType::kStarttlsNotSupported, 200),
                       failure(ResultType::kValidationFailure, 3),
                       CounterIncrement{.counter = Counter::kReports, .organization = "Company-X", .amount = 1}));
}

TEST(Aggregate, SameLabelsAreMergedAndUnknownTypesAreOther) {
  nlohmann::json doc = nlohmann::json::parse(read_fixture("google-sts.json"));
  doc["policies"][0]["failure-details"][2]["result-type"] = "something-new";
  const IntakeResult r = ReportIntake().accept(doc.dump(), "application/tlsrpt+json");
  ASSERT_TRUE(r.ok()) << r.rejection->message;
  const std::vector<CounterIncrement> inc = aggregate(*r.report);
  const auto failure = [](ResultType type, std::uint64_t n) {
    return CounterIncrement{.counter = Counter::kFailures, .organization = "Google Inc.",
                            .policy_domain = "example.net", .result_type = type, .amount = n};
  };
  EXPECT_THAT(inc, Contains(failure(ResultType::kCertificateExpired, 6)));  // 5 + 1
  EXPECT_THAT(inc, Contains(failure(ResultType::kOther, 1)));
  EXPECT_EQ(inc.size(), 2u + 2u + 1u);
}

TEST(Aggregate, NoPolicyFoundKeepsZeroFailureSeries) {
  const IntakeResult r = ReportIntake().accept(read_fixture("google-no-policy-found.json"), "application/json");
  ASSERT_TRUE(r.ok());
  const std::vector<CounterIncrement> inc = aggregate(*r.report);
  EXPECT_THAT(inc, Contains(CounterIncrement{.counter = Counter::kSessions, .organization = "Google Inc.",
                                             .policy_domain = "example.org",
                                             .policy_type = PolicyType::kNoPolicyFound,
                                             .result = SessionResult::kFailure, .amount = 0}));
}

TEST(Aggregate, AttackerControlledLabelsAreBounded) {
  nlohmann::json doc = nlohmann::json::parse(read_fixture("google-no-policy-found.json"));
  doc["organization-name"] = std::string("Evil\nCorp\x7f") + std::string(500, 'x');
  doc["policies"][0]["policy"]["policy-domain"] = "Example.ORG.";
  const IntakeResult r = ReportIntake().accept(doc.dump(), "application/tlsrpt+json");
  ASSERT_TRUE(r.ok());
  const std::vector<CounterIncrement> inc = aggregate(*r.report);
  const std::string org = inc.back().organization;
  EXPECT_EQ(org.size(), kMaxOrganizationChars);
  EXPECT_TRUE(org.starts_with("Evil_Corp_xxx"));
  EXPECT_EQ(inc[0].policy_domain, "example.org");
}

TEST(SanitizeLabel, Utf8AndControls) {
  EXPECT_EQ(sanitize_label_value("Müller GmbH", 64), "Müller GmbH");
  EXPECT_EQ(sanitize_label_value("ab\xff" "c", 64), "ab_c");
  EXPECT_EQ(sanitize_label_value("a\xc2\x85" "b", 64), "a_b");           // U+0085 (C1 control)
  EXPECT_EQ(sanitize_label_value("\xc3\xbc\xc3\xbc\xc3\xbc", 2), "\xc3\xbc\xc3\xbc");  // cut by code point
  EXPECT_EQ(sanitize_label_value("\xed\xa0\x80", 64), "___");          // a UTF-16 surrogate is not UTF-8
  EXPECT_EQ(sanitize_label_value("", 64), "unknown");
}

TEST(DedupKey, SameOrganizationAndIdGiveTheSameKey) {
  const IntakeResult a = ReportIntake().accept(read_fixture("google-sts.json"), "application/tlsrpt+json");
  const IntakeResult b = ReportIntake().accept(read_fixture("google-sts.json.gz"), "application/tlsrpt+gzip");
  ASSERT_TRUE(a.ok() && b.ok());
  EXPECT_EQ(dedup_key(*a.report), dedup_key(*b.report));
  EXPECT_EQ(dedup_key(*a.report).size(), 64u);
  TlsRptReport other = *a.report;
  other.report_id += "x";
  EXPECT_NE(dedup_key(other), dedup_key(*a.report));
  // The boundary between the two fields cannot be shifted.
  TlsRptReport x, y;
  x.organization_name = "ab";
  x.report_id = "c";
  y.organization_name = "a";
  y.report_id = "bc";
  EXPECT_NE(dedup_key(x), dedup_key(y));
}

// Issue 17, finding 11: a forged report sent first under the real report's (predictable) id
// must not make the real one a duplicate; an exact resend, however re-encoded, still is.
TEST(DedupKey, DifferentContentUnderTheSameIdIsNotADuplicate) {
  const std::string real_text = read_fixture("google-sts.json");
  nlohmann::json forged_doc = nlohmann::json::parse(real_text);
  forged_doc["policies"][0]["summary"]["total-failure-session-count"] = 0;
  const IntakeResult real = ReportIntake().accept(real_text, "application/tlsrpt+json");
  const IntakeResult forged = ReportIntake().accept(forged_doc.dump(), "application/tlsrpt+json");
  const IntakeResult resent = ReportIntake().accept(nlohmann::json::parse(real_text).dump(2), "application/json");
  ASSERT_TRUE(real.ok() && forged.ok() && resent.ok());
  ASSERT_EQ(forged.report->report_id, real.report->report_id);
  EXPECT_NE(dedup_key(*forged.report), dedup_key(*real.report));
  EXPECT_EQ(dedup_key(*resent.report), dedup_key(*real.report));
}

}  // namespace
}  // namespace mailtls::tlsrpt
