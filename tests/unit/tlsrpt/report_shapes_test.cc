// Real-world report shapes (tests/data/tlsrpt), each posted (json and gzip) and mailed (a
// DKIM-signed multipart/report with an application/tlsrpt+gzip attachment named by the RFC
// 8460 §5.1 convention): both paths must give the same report, and its counter increments.
#include <openssl/evp.h>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <set>
#include <vector>

#include "probes/dns/records.h"
#include "probes/tlsrpt/report_intake.h"
#include "tests/fakes/dkim_test_signer.h"
#include "tests/fakes/fake_resolver.h"
#include "tests/unit/tlsrpt/fixture.h"
#include "tests/unit/tlsrpt/gzip_codec.h"

namespace mailtls::tlsrpt {
namespace {

using testing::gzip;
using testing::read_fixture;

std::string base64_lines(const std::string& bytes) {
  std::vector<unsigned char> out(4 * ((bytes.size() + 2) / 3) + 1);
  const int n = EVP_EncodeBlock(out.data(), reinterpret_cast<const unsigned char*>(bytes.data()),
                                static_cast<int>(bytes.size()));
  std::string b64(reinterpret_cast<char*>(out.data()), static_cast<std::size_t>(n)), wrapped;
  for (std::size_t i = 0; i < b64.size(); i += 76) wrapped += b64.substr(i, 76) + "\n";
  return wrapped;
}

// A report mail as the big senders send it: RFC 8460 §5.3 headers, a text part and the gzip
// attachment named <submitter>!<policy-domain>!<begin>!<end>!<id>.json.gz.
std::string report_mail(const TlsRptReport& r, const std::string& json, const std::string& submitter) {
  const std::string policy_domain = r.policies.at(0).policy_domain;
  const std::string name = submitter + "!" + policy_domain + "!1764460800!1764547199!" + r.report_id + ".json.gz";
  return "From: tlsrpt-noreply@" + submitter + "\nTo: tlsrpt@" + policy_domain +
         "\nSubject: Report Domain: " + policy_domain + " Submitter: " + submitter + " Report-ID: <" + r.report_id +
         "@" + submitter + ">\nDate: Mon, 01 Dec 2026 09:00:00 +0000\nMessage-ID: <" + r.report_id + "@" + submitter +
         ">\nTLS-Report-Domain: " + policy_domain + "\nTLS-Report-Submitter: " + submitter +
         "\nMIME-Version: 1.0\nContent-Type: multipart/report; report-type=\"tlsrpt\"; boundary=\"b1\"\n\n"
         "--b1\nContent-Type: text/plain; charset=us-ascii\n\nThis is an aggregate TLS report from " + submitter +
         "\n\n--b1\nContent-Type: application/tlsrpt+gzip; name=\"" + name +
         "\"\nContent-Disposition: attachment; filename=\"" + name + "\"\nContent-Transfer-Encoding: base64\n\n" +
         base64_lines(gzip(json)) + "--b1--\n";
}

std::string contact_domain(const std::string& contact) { return contact.substr(contact.rfind('@') + 1); }

class ReportShapes : public ::testing::TestWithParam<const char*> {};

TEST_P(ReportShapes, PostedAndMailedGiveTheSameReport) {
  static const mailtls::testing::DkimTestSigner signer;
  const std::string json = read_fixture(GetParam());
  const ReportIntake intake;
  const IntakeResult posted = intake.accept(json, "application/tlsrpt+json");
  ASSERT_TRUE(posted.ok()) << posted.rejection->message;
  const IntakeResult posted_gz = intake.accept(gzip(json), "application/tlsrpt+gzip");
  ASSERT_TRUE(posted_gz.ok()) << posted_gz.rejection->message;
  EXPECT_EQ(dedup_key(*posted.report), dedup_key(*posted_gz.report));

  const std::string submitter = contact_domain(posted.report->contact_info);
  mailtls::testing::FakeResolver resolver;
  resolver.set("tlsrpt._domainkey." + submitter, dns::RrType::kTxt, {dns::encode_txt({signer.key_record()})});
  const DkimVerifier verifier(resolver);
  const std::string mail = signer.sign(report_mail(*posted.report, json, submitter), submitter, "tlsrpt");
  const IntakeResult mailed = intake.accept_mail(mail, MailAcceptPolicy{.verifier = &verifier});
  ASSERT_TRUE(mailed.ok()) << mailed.rejection->message;
  EXPECT_EQ(mailed.dkim->result, DkimResult::kPass);
  EXPECT_EQ(mailed.mail->declared_content_type, "application/tlsrpt+gzip");
  EXPECT_TRUE(mailed.mail->multipart_report_tlsrpt);
  EXPECT_TRUE(mailed.mail->filename.starts_with(submitter + "!")) << mailed.mail->filename;
  EXPECT_EQ(dedup_key(*mailed.report), dedup_key(*posted.report));
  EXPECT_EQ(aggregate(*mailed.report), aggregate(*posted.report));
}

INSTANTIATE_TEST_SUITE_P(Fixtures, ReportShapes,
                         ::testing::Values("google-sts.json", "google-no-policy-found.json", "microsoft-tlsa.json",
                                           "failure-details-mixed.json", "multi-policy.json"));

std::set<std::string> label_values(const std::vector<CounterIncrement>& incs, Counter c, const std::string& label) {
  std::set<std::string> out;
  for (const auto& inc : incs) {
    if (inc.counter != c) continue;
    for (const auto& l : inc.labels) {
      if (l.name == label) out.insert(l.value);
    }
  }
  return out;
}

TEST(ReportShapes, MixedFailureDetailsCountEveryResultType) {
  const auto r = ReportIntake().accept(read_fixture("failure-details-mixed.json"), "application/tlsrpt+json");
  ASSERT_TRUE(r.ok()) << r.rejection->message;
  EXPECT_EQ(label_values(aggregate(*r.report), Counter::kFailures, "result_type"),
            (std::set<std::string>{"starttls-not-supported", "certificate-host-mismatch", "certificate-not-trusted",
                                   "validation-failure", "sts-policy-fetch-error", "sts-webpki-invalid", "other"}));
}

TEST(ReportShapes, MultiPolicyReportCountsEachPolicyDomain) {
  const auto r = ReportIntake().accept(read_fixture("multi-policy.json"), "application/tlsrpt+json");
  ASSERT_TRUE(r.ok()) << r.rejection->message;
  const auto incs = aggregate(*r.report);
  EXPECT_EQ(label_values(incs, Counter::kSessions, "policy_domain"),
            (std::set<std::string>{"example.com", "example.org", "example.net"}));
  EXPECT_EQ(label_values(incs, Counter::kSessions, "policy_type"),
            (std::set<std::string>{"tlsa", "sts", "no-policy-found"}));
}

// The gzip attachment of a real mailed report: the RFC's media type and file name convention.
TEST(ReportShapes, MailedGzipAttachmentFollowsTheRfcConvention) {
  const auto r = extract_mail_report(read_fixture("mail-multipart-report.eml"));
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r.mail.declared_content_type, "application/tlsrpt+gzip");
  EXPECT_EQ(r.mail.filename, "google.com!example.net!1749945600!1750031999!001.json.gz");
}

}  // namespace
}  // namespace mailtls::tlsrpt
