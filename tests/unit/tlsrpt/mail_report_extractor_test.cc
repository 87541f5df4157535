// The bounded MIME walker: the multipart/report fixture, lenient shapes, and broken MIME that
// must become a kMime rejection (never a crash).
#include "probes/tlsrpt/mail_report_extractor.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "probes/tlsrpt/gzip_decoder.h"
#include "tests/unit/tlsrpt/fixture.h"

namespace mailtls::tlsrpt {
namespace {

using testing::read_fixture;
using ::testing::HasSubstr;

std::string replace_all(std::string s, std::string_view from, std::string_view to) {
  for (auto at = s.find(from); at != std::string::npos; at = s.find(from, at + to.size())) {
    s.replace(at, from.size(), to);
  }
  return s;
}

TEST(MailExtractor, MultipartReportWithBase64GzipPart) {
  const MailExtractResult r = extract_mail_report(read_fixture("mail-multipart-report.eml"));
  ASSERT_TRUE(r.ok()) << r.rejection->message;
  const MailReport& m = r.mail;
  EXPECT_TRUE(m.multipart_report_tlsrpt);
  EXPECT_FALSE(m.bare_body);
  EXPECT_EQ(m.content_type, "application/tlsrpt+gzip");
  EXPECT_EQ(m.declared_content_type, "application/tlsrpt+gzip");
  EXPECT_EQ(m.filename, "google.com!example.net!1749945600!1750031999!001.json.gz");
  EXPECT_EQ(m.tls_report_domain, "example.net");
  EXPECT_EQ(m.tls_report_submitter, "google.com");
  // The folded Subject is unfolded.
  EXPECT_EQ(m.subject,
            "Report Domain: example.net Submitter: google.com Report-ID: <2025-06-15T00:00:00Z_example.net@google.com>");
  EXPECT_EQ(m.report_bytes, read_fixture("google-sts.json.gz"));
}

TEST(MailExtractor, LfLineEndingsWork) {
  const MailExtractResult r = extract_mail_report(replace_all(read_fixture("mail-multipart-report.eml"), "\r\n", "\n"));
  ASSERT_TRUE(r.ok()) << r.rejection->message;
  EXPECT_EQ(r.mail.report_bytes, read_fixture("google-sts.json.gz"));
}

TEST(MailExtractor, MissingBoundaryIsMime) {
  const MailExtractResult r = extract_mail_report(read_fixture("mail-malformed-no-boundary.eml"));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.rejection->reason, RejectionReason::kMime);
  EXPECT_THAT(r.rejection->message, HasSubstr("boundary"));
}

TEST(MailExtractor, TruncatedMessageIsMime) {
  const std::string whole = read_fixture("mail-multipart-report.eml");
  // Every cut: never a crash, and every cut inside the report part is refused as mime.
  for (std::size_t cut = 0; cut < whole.size(); cut += 7) {
    const MailExtractResult r = extract_mail_report(std::string_view(whole).substr(0, cut));
    if (cut > whole.find("Content-Type: application/tlsrpt+gzip") && cut < whole.size() - 40) {
      ASSERT_FALSE(r.ok()) << cut;
      EXPECT_EQ(r.rejection->reason, RejectionReason::kMime) << cut;
    }
  }
  const MailExtractResult r = extract_mail_report(std::string_view(whole).substr(0, whole.size() - 40));
  ASSERT_FALSE(r.ok());
  EXPECT_THAT(r.rejection->message, HasSubstr("truncated"));
}

TEST(MailExtractor, Base64GarbageIsMime) {
  std::string msg = read_fixture("mail-multipart-report.eml");
  const auto at = msg.find("H4sI");
  ASSERT_NE(at, std::string::npos);
  msg.replace(at, 4, "H4*I");
  const MailExtractResult r = extract_mail_report(msg);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.rejection->reason, RejectionReason::kMime);
  EXPECT_THAT(r.rejection->message, HasSubstr("base64"));
}

TEST(MailExtractor, NestedMultipart) {
  const std::string json = read_fixture("google-no-policy-found.json");
  const std::string msg =
      "From: reports@example.org\n"
      "TLS-Report-Domain: example.org\n"
      "Content-Type: multipart/mixed; boundary=outer\n"
      "\n"
      "--outer\n"
      "Content-Type: multipart/report; report-type=tlsrpt; boundary=\"inner\"\n"
      "\n"
      "--inner\n"
      "Content-Type: text/plain\n"
      "\n"
      "human text\n"
      "--inner\n"
      "Content-Type: application/tlsrpt+json\n"
      "Content-Transfer-Encoding: quoted-printable\n"
      "\n" +
      replace_all(json, "=", "=3D") +
      "--inner--\n"
      "--outer--\n";
  const MailExtractResult r = extract_mail_report(msg);
  ASSERT_TRUE(r.ok()) << r.rejection->message;
  EXPECT_EQ(r.mail.content_type, "application/tlsrpt+json");
  EXPECT_EQ(r.mail.report_bytes, json.substr(0, json.size() - 1));  // the last newline belongs to the delimiter
  EXPECT_FALSE(r.mail.multipart_report_tlsrpt);  // the top level is multipart/mixed
}

TEST(MailExtractor, NestingDeeperThanTheLimitIsMime) {
  std::string msg = "Content-Type: multipart/mixed; boundary=b0\n\n";
  std::string tail;
  for (int i = 1; i <= 6; ++i) {
    msg += "--b" + std::to_string(i - 1) + "\nContent-Type: multipart/mixed; boundary=b" + std::to_string(i) + "\n\n";
    tail = "--b" + std::to_string(i - 1) + "--\n" + tail;
  }
  msg += "--b6\nContent-Type: application/tlsrpt+json\n\n{}\n--b6--\n" + tail;
  const MailExtractResult r = extract_mail_report(msg);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.rejection->reason, RejectionReason::kMime);
  EXPECT_THAT(r.rejection->message, HasSubstr("nested"));
}

TEST(MailExtractor, PartCountCap) {
  std::string msg = "Content-Type: multipart/mixed; boundary=b\n\n";
  for (int i = 0; i < 100; ++i) msg += "--b\nContent-Type: text/plain\n\nx\n";
  msg += "--b\nContent-Type: application/tlsrpt+json\n\n{}\n--b--\n";
  const MailExtractResult r = extract_mail_report(msg);
  ASSERT_FALSE(r.ok());
  EXPECT_THAT(r.rejection->message, HasSubstr("parts"));
}

TEST(MailExtractor, LenientPartFoundByFilename) {
  const std::string msg =
      "Content-Type: multipart/mixed; boundary=\"b\"\r\n\r\n"
      "--b\r\nContent-Type: application/octet-stream\r\n"
      "Content-Disposition: attachment; filename=\"x!example.org!1!2.json\"\r\n\r\n"
      "{\"a\":1}\r\n--b--\r\n";
  const MailExtractResult r = extract_mail_report(msg);
  ASSERT_TRUE(r.ok()) << r.rejection->message;
  EXPECT_EQ(r.mail.report_bytes, "{\"a\":1}");
  EXPECT_EQ(r.mail.declared_content_type, "application/octet-stream");
  EXPECT_EQ(r.mail.content_type, "application/tlsrpt+json");
}

TEST(MailExtractor, DeclaredTypeBeatsLenientMatch) {
  const std::string msg =
      "Content-Type: multipart/mixed; boundary=b\n\n"
      "--b\nContent-Type: application/json\n\n{\"lenient\":1}\n"
      "--b\nContent-Type: application/tlsrpt+json\n\n{\"declared\":1}\n--b--\n";
  const MailExtractResult r = extract_mail_report(msg);
  ASSERT_TRUE(r.ok()) << r.rejection->message;
  EXPECT_EQ(r.mail.report_bytes, "{\"declared\":1}");
}

TEST(MailExtractor, BareJsonBody) {
  const std::string msg = "From: a@example.org\r\nSubject: report\r\n\r\n" + read_fixture("google-sts.json");
  const MailExtractResult r = extract_mail_report(msg);
  ASSERT_TRUE(r.ok()) << r.rejection->message;
  EXPECT_TRUE(r.mail.bare_body);
  EXPECT_EQ(r.mail.content_type, "application/tlsrpt+json");
}

TEST(MailExtractor, NoReportPartIsMime) {
  EXPECT_EQ(extract_mail_report("Subject: hi\n\nhello\n").rejection->reason, RejectionReason::kMime);
  EXPECT_EQ(extract_mail_report("Content-Type: multipart/mixed; boundary=b\n\n--b\n\ntext\n--b--\n")
                .rejection->reason,
            RejectionReason::kMime);
  EXPECT_EQ(extract_mail_report("Content-Type: image/png\n\n{}").rejection->reason, RejectionReason::kMime);
}

TEST(MailExtractor, MalformedHeadersAreMime) {
  EXPECT_EQ(extract_mail_report("no colon here\n\n{}").rejection->reason, RejectionReason::kMime);
  EXPECT_EQ(extract_mail_report(" continuation first\n\n{}").rejection->reason, RejectionReason::kMime);
  EXPECT_EQ(extract_mail_report("Subject: no body separator").rejection->reason, RejectionReason::kMime);
  EXPECT_EQ(extract_mail_report("").rejection->reason, RejectionReason::kMime);
}

TEST(MailExtractor, UnknownTransferEncodingIsMime) {
  const MailExtractResult r = extract_mail_report(
      "Content-Type: application/tlsrpt+json\nContent-Transfer-Encoding: x-uuencode\n\n{}");
  ASSERT_FALSE(r.ok());
  EXPECT_THAT(r.rejection->message, HasSubstr("x-uuencode"));
}

TEST(MailExtractor, MessageSizeCap) {
  MailLimits limits;
  limits.max_message_bytes = 100;
  const MailExtractResult r = extract_mail_report(read_fixture("mail-multipart-report.eml"), limits);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.rejection->reason, RejectionReason::kTooLarge);
}

TEST(MailExtractor, MboxFromLineIsSkipped) {
  const MailExtractResult r = extract_mail_report("From a@b Mon Jun 16 00:00:00 2025\nSubject: x\n\n{\"a\":1}\n");
  ASSERT_TRUE(r.ok()) << r.rejection->message;
  EXPECT_EQ(r.mail.subject, "x");
}

TEST(TransferDecoding, Base64) {
  EXPECT_EQ(decode_base64("aGVsbG8="), "hello");
  EXPECT_EQ(decode_base64("aGVs\r\nbG8gd29y\nbGQ="), "hello world");
  EXPECT_EQ(decode_base64("aGVsbA"), "hell");  // missing padding tolerated
  EXPECT_FALSE(decode_base64("aGVsbG8=x").has_value());
  EXPECT_FALSE(decode_base64("a").has_value());
  EXPECT_FALSE(decode_base64("aGV$").has_value());
}

TEST(TransferDecoding, QuotedPrintable) {
  EXPECT_EQ(decode_quoted_printable("a=3Db=\r\nc=\nd"), "a=bcd");
  EXPECT_EQ(decode_quoted_printable("x=ZZ"), "x=ZZ");
  EXPECT_EQ(decode_quoted_printable("end="), "end=");
}

}  // namespace
}  // namespace mailtls::tlsrpt
