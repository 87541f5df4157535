// DKIM of mailed reports (docs/verdicts.md R11): libopendkim's verdicts through our resolver
// seam, the signing-domain rule, and what ReportIntake::accept_mail makes of them. Messages
// are signed in-process (tests/fakes/dkim_test_signer.h); the e2e test mail_dkim_world.sh
// does the same with a real OpenDKIM milter and compares with python3-dkim.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "probes/dns/records.h"
#include "probes/tlsrpt/dkim_signing_rule.h"
#include "probes/tlsrpt/dkim_verification.h"
#include "probes/tlsrpt/report_intake.h"
#include "tests/fakes/dkim_test_signer.h"
#include "tests/fakes/fake_resolver.h"
#include "tests/unit/tlsrpt/fixture.h"

namespace mailtls::tlsrpt {
namespace {

using mailtls::testing::DkimTestSigner;
using mailtls::testing::FakeResolver;
using testing::read_fixture;

constexpr const char* kKeyName = "tlsrpt._domainkey.google.com";

// One key for the whole suite: RSA generation is the slow part.
const DkimTestSigner& signer() {
  static const DkimTestSigner s;
  return s;
}

class DkimTest : public ::testing::Test {
 protected:
  void publish(const std::string& name, const std::string& record, dns::Security sec = dns::Security::kSecure) {
    resolver_.set(name, dns::RrType::kTxt, {dns::encode_txt({record})}, sec);
  }
  DkimChecks check(const std::string& message) { return DkimVerifier(resolver_).check(message); }
  DkimVerdict judge(const std::string& message) {
    return judge_dkim(check(message), {"google.com", "google.com"});
  }
  std::string signed_report(std::string_view domain = "google.com", bool l_tag = false) {
    return signer().sign(read_fixture("mail-multipart-report.eml"), domain, "tlsrpt", l_tag);
  }
  FakeResolver resolver_;
};

TEST_F(DkimTest, ValidSignaturePassesAndRecordsKeySecurity) {
  publish(kKeyName, signer().key_record());
  const DkimChecks c = check(signed_report());
  ASSERT_EQ(c.signatures.size(), 1u) << c.error;
  EXPECT_EQ(c.signatures[0].status, DkimSignatureStatus::kValid) << c.signatures[0].detail;
  EXPECT_EQ(c.signatures[0].domain, "google.com");
  EXPECT_EQ(c.signatures[0].key_security, dns::Security::kSecure);
  const DkimVerdict v = judge_dkim(c, {"google.com"});
  EXPECT_EQ(v.result, DkimResult::kPass) << v.reason;
  EXPECT_EQ(v.key_security, dns::Security::kSecure);

  publish(kKeyName, signer().key_record(), dns::Security::kInsecure);
  EXPECT_EQ(judge(signed_report()).key_security, dns::Security::kInsecure);
}

TEST_F(DkimTest, OneBodyByteChangedFails) {
  publish(kKeyName, signer().key_record());
  std::string m = signed_report();
  const auto at = m.find("H4sI");
  ASSERT_NE(at, std::string::npos);
  m[at + 10] = m[at + 10] == 'A' ? 'B' : 'A';
  const DkimVerdict v = judge(m);
  EXPECT_EQ(v.result, DkimResult::kFail) << v.reason;
}

TEST_F(DkimTest, ChangedSignedHeaderFails) {
  publish(kKeyName, signer().key_record());
  std::string m = signed_report();
  const std::string from = "TLS-Report-Domain: example.net";
  m.replace(m.find(from), from.size(), "TLS-Report-Domain: example.org");
  EXPECT_EQ(judge(m).result, DkimResult::kFail);
}

TEST_F(DkimTest, UnsignedIsNoSignature) {
  EXPECT_EQ(judge(read_fixture("mail-multipart-report.eml")).result, DkimResult::kNoSignature);
}

TEST_F(DkimTest, OtherSigningDomainIsPolicy) {
  publish("tlsrpt._domainkey.mallory.example", signer().key_record());
  const DkimVerdict v = judge(signed_report("mallory.example"));
  EXPECT_EQ(v.result, DkimResult::kPolicy) << v.reason;
  EXPECT_EQ(v.signing_domain, "mallory.example");
}

TEST_F(DkimTest, BodyLengthTagIsPolicy) {
  publish(kKeyName, signer().key_record());
  const DkimChecks c = check(signed_report("google.com", /*l_tag=*/true));
  ASSERT_EQ(c.signatures.size(), 1u);
  EXPECT_TRUE(c.signatures[0].body_length_limited);
  EXPECT_EQ(c.signatures[0].status, DkimSignatureStatus::kValid);
  EXPECT_EQ(judge_dkim(c, {"google.com"}).result, DkimResult::kPolicy);
}

TEST_F(DkimTest, MissingOrFailingKeyIsTemporary) {
  // Unscripted: a secure NXDOMAIN.
  {
    const DkimChecks c = check(signed_report());
    ASSERT_EQ(c.signatures.size(), 1u) << c.error;
    EXPECT_EQ(c.signatures[0].status, DkimSignatureStatus::kKeyNotFound);
  }
  EXPECT_EQ(judge(signed_report()).result, DkimResult::kTemporary);
  resolver_.fail(kKeyName, dns::RrType::kTxt, dns::Security::kIndeterminate, "SERVFAIL");
  {
    const DkimChecks c = check(signed_report());
    ASSERT_EQ(c.signatures.size(), 1u) << c.error;
    EXPECT_EQ(c.signatures[0].status, DkimSignatureStatus::kKeyTemporary);
  }
  EXPECT_EQ(judge(signed_report()).result, DkimResult::kTemporary);
  resolver_.fail(kKeyName, dns::RrType::kTxt, dns::Security::kBogus);
  EXPECT_EQ(judge(signed_report()).result, DkimResult::kTemporary);
}

TEST_F(DkimTest, KeyServiceTypeMustAllowTlsrpt) {
  publish(kKeyName, signer().key_record("s=tlsrpt"));
  EXPECT_EQ(judge(signed_report()).result, DkimResult::kPass);
  publish(kKeyName, signer().key_record("s=email:tlsrpt"));
  EXPECT_EQ(judge(signed_report()).result, DkimResult::kPass);
  publish(kKeyName, signer().key_record("s=email"));
  EXPECT_EQ(judge(signed_report()).result, DkimResult::kPolicy);
}

TEST_F(DkimTest, RevokedKeyFails) {
  publish(kKeyName, "v=DKIM1; k=rsa; p=");
  EXPECT_EQ(judge(signed_report()).result, DkimResult::kFail);
}

TEST_F(DkimTest, GoodSignatureOfTheReporterWinsOverOthers) {
  publish(kKeyName, signer().key_record());
  publish("tlsrpt._domainkey.mallory.example", signer().key_record());
  const std::string twice = signer().sign(signed_report(), "mallory.example", "tlsrpt");
  EXPECT_EQ(judge(twice).result, DkimResult::kPass);
}

TEST(SigningDomainRule, SameDomainOrParent) {
  EXPECT_TRUE(signing_domain_covers("google.com", "google.com"));
  EXPECT_TRUE(signing_domain_covers("Google.COM.", "google.com"));
  EXPECT_TRUE(signing_domain_covers("google.com", "reports.google.com"));
  EXPECT_FALSE(signing_domain_covers("reports.google.com", "google.com"));
  EXPECT_FALSE(signing_domain_covers("gle.com", "google.com"));
  EXPECT_FALSE(signing_domain_covers("", "google.com"));
  EXPECT_FALSE(signing_domain_covers("google.com", ""));
}

TEST(SigningDomainRule, EveryNamedReportingDomainMustBeCovered) {
  DkimChecks c;
  c.signatures.push_back({"google.com", "s", DkimSignatureStatus::kValid, false, dns::Security::kSecure, ""});
  EXPECT_EQ(judge_dkim(c, {"google.com", "google.com"}).result, DkimResult::kPass);
  EXPECT_EQ(judge_dkim(c, {"", "google.com"}).result, DkimResult::kPass);  // no Submitter header
  EXPECT_EQ(judge_dkim(c, {"google.com", "evil.example"}).result, DkimResult::kPolicy);
  EXPECT_EQ(judge_dkim(c, {}).result, DkimResult::kPolicy);
}

// ReportIntake::accept_mail with a verifier: the default path of the Maildir import.
TEST_F(DkimTest, IntakeAcceptsSignedMailAndRefusesByReason) {
  publish(kKeyName, signer().key_record());
  const DkimVerifier verifier(resolver_);
  const MailAcceptPolicy policy{.allow_unsigned = false, .verifier = &verifier};
  const ReportIntake intake;

  const IntakeResult ok = intake.accept_mail(signed_report(), policy);
  ASSERT_TRUE(ok.ok()) << ok.rejection->message;
  ASSERT_TRUE(ok.dkim.has_value());
  EXPECT_EQ(ok.dkim->result, DkimResult::kPass);

  const IntakeResult unsigned_mail = intake.accept_mail(read_fixture("mail-multipart-report.eml"), policy);
  ASSERT_TRUE(unsigned_mail.rejection.has_value());
  EXPECT_EQ(unsigned_mail.rejection->reason, RejectionReason::kDkimNoSignature);

  publish("tlsrpt._domainkey.mallory.example", signer().key_record());
  const IntakeResult foreign = intake.accept_mail(signed_report("mallory.example"), policy);
  ASSERT_TRUE(foreign.rejection.has_value());
  EXPECT_EQ(foreign.rejection->reason, RejectionReason::kDkimPolicy);

  // The Submitter header signed by google.com, but the report's contact-info names another
  // domain: the signature does not speak for it.
  std::string m = read_fixture("mail-multipart-report.eml");
  const std::string submitter = "TLS-Report-Submitter: google.com";
  m.replace(m.find(submitter), submitter.size(), "TLS-Report-Submitter: mallory.example");
  const IntakeResult other = intake.accept_mail(signer().sign(m, "mallory.example", "tlsrpt"), policy);
  ASSERT_TRUE(other.rejection.has_value());
  EXPECT_EQ(other.rejection->reason, RejectionReason::kDkimPolicy);
}

TEST_F(DkimTest, IntakeDefersWhenTheKeyIsMissingOrNoVerifier) {
  const DkimVerifier verifier(resolver_);
  const ReportIntake intake;
  const IntakeResult r = intake.accept_mail(signed_report(), MailAcceptPolicy{.verifier = &verifier});
  EXPECT_TRUE(r.deferred());
  EXPECT_FALSE(r.ok());
  EXPECT_FALSE(r.rejection.has_value());
  EXPECT_TRUE(intake.accept_mail(signed_report(), MailAcceptPolicy{}).deferred());
}

}  // namespace
}  // namespace mailtls::tlsrpt
