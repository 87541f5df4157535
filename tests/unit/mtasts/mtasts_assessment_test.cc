// The MTA-STS verdict rules (mtasts_assessment.h) and the probe's flow (TXT, fetch, parse) with a
// scripted resolver and a scripted fetcher.
#include "probes/mtasts/mtasts_assessment.h"

#include <gtest/gtest.h>

#include "probes/dns/records.h"
#include "probes/mtasts/mtasts_probe.h"
#include "tests/fakes/fake_policy_fetcher.h"
#include "tests/fakes/fake_resolver.h"

namespace mailtls::mtasts {
namespace {

using testing::FakePolicyFetcher;

constexpr const char* kEnforce =
    "version: STSv1\nmode: enforce\nmx: mx1.example.com\nmx: *.backup.example.com\n"
    "max_age: 604800\n";

class ScriptedFetcher final : public PolicyFetcher {
 public:
  PolicyFetchResult next;
  int calls = 0;
  std::string last_domain;
  PolicyFetchResult fetch(std::string_view policy_domain, Deadline) override {
    ++calls;
    last_domain = std::string(policy_domain);
    return next;
  }
};

PolicyFetchResult fetch_failed(PolicyFetchFailure f) {
  PolicyFetchResult r;
  r.failure = f;
  r.result_type = std::string(rfc8460_result_type(f));
  r.message = "scripted";
  return r;
}

// A probe result as probe_mtasts would build it, without DNS.
MtaStsProbeResult probe_with(std::vector<std::string> txt, std::optional<PolicyFetchResult> fetch) {
  MtaStsProbeResult p;
  p.policy_domain = "example.com";
  p.txt.outcome = dns::Outcome::kData;
  p.txt.security = dns::Security::kSecure;
  p.txt.txt = select_sts_txt_record(txt);
  p.fetch = std::move(fetch);
  if (p.fetch && p.fetch->ok) p.policy = parse_sts_policy(p.fetch->body);
  return p;
}

const std::vector<MxTransport> kAllGood = {{"mx1.example.com", true, true},
                                           {"a.backup.example.com", true, true}};

TEST(MtaStsAssessment, EnforceWithEveryMxPassingIsEnforced) {
  const auto a = assess_mtasts(probe_with({"v=STSv1; id=1"}, FakePolicyFetcher::served(kEnforce)), kAllGood);
  EXPECT_EQ(a.status, MtaStsStatus::kEnforced) << a.reason;
  EXPECT_EQ(to_string(a.status), "enforced");
  ASSERT_EQ(a.mx.size(), 2u);
  EXPECT_TRUE(a.mx[0].covered);
  EXPECT_TRUE(a.mx[1].covered);
  EXPECT_EQ(a.mx[1].matched_pattern, "*.backup.example.com");
  EXPECT_EQ(a.mode, StsMode::kEnforce);
}

TEST(MtaStsAssessment, NoTxtIsNotDeployed) {
  const auto a = assess_mtasts(probe_with({}, std::nullopt), kAllGood);
  EXPECT_EQ(a.status, MtaStsStatus::kNotDeployed);
  EXPECT_TRUE(a.mx.empty());
}

TEST(MtaStsAssessment, TwoTxtRecordsAreInvalid) {
  const auto a = assess_mtasts(
      probe_with({"v=STSv1; id=1", "v=STSv1; id=2"}, FakePolicyFetcher::served(kEnforce)), kAllGood);
  EXPECT_EQ(a.status, MtaStsStatus::kInvalid);
  EXPECT_NE(a.reason.find("multiple_records"), std::string::npos) << a.reason;
}

TEST(MtaStsAssessment, BadTxtIsInvalid) {
  EXPECT_EQ(assess_mtasts(probe_with({"v=STSv1; id=a-b"}, FakePolicyFetcher::served(kEnforce)), kAllGood).status,
            MtaStsStatus::kInvalid);
}

TEST(MtaStsAssessment, TxtLookupFailureIsBroken) {
  MtaStsProbeResult p;
  p.txt.lookup_failed = true;
  p.txt.lookup_error = "SERVFAIL";
  EXPECT_EQ(assess_mtasts(p, kAllGood).status, MtaStsStatus::kBroken);
}

TEST(MtaStsAssessment, EveryFetchFailureIsBroken) {
  for (auto f : {PolicyFetchFailure::kDns, PolicyFetchFailure::kConnect, PolicyFetchFailure::kTls,
                 PolicyFetchFailure::kTlsWebPki, PolicyFetchFailure::kHttpStatus,
                 PolicyFetchFailure::kRedirect, PolicyFetchFailure::kContentType,
                 PolicyFetchFailure::kTooLarge, PolicyFetchFailure::kTimeout}) {
    const auto a = assess_mtasts(probe_with({"v=STSv1; id=1"}, fetch_failed(f)), kAllGood);
    EXPECT_EQ(a.status, MtaStsStatus::kBroken) << to_string(f);
    EXPECT_NE(a.reason.find(std::string(to_string(f))), std::string::npos) << a.reason;
  }
}

TEST(MtaStsAssessment, UnparsablePolicyIsInvalid) {
  const auto a = assess_mtasts(
      probe_with({"v=STSv1; id=1"},
                 FakePolicyFetcher::served("version: STSv1\nmode: Enforce\nmx: mx1.example.com\nmax_age: 1\n")),
      kAllGood);
  EXPECT_EQ(a.status, MtaStsStatus::kInvalid);
  EXPECT_NE(a.reason.find("bad_mode"), std::string::npos) << a.reason;
}

// B12: the patterns do not cover one MX.
TEST(MtaStsAssessment, EnforceWithOneMxUncoveredIsDegraded) {
  const std::vector<MxTransport> mx = {{"mx1.example.com", true, true},
                                       {"mx2.example.com", true, true}};
  const auto a = assess_mtasts(probe_with({"v=STSv1; id=1"}, FakePolicyFetcher::served(kEnforce)), mx);
  EXPECT_EQ(a.status, MtaStsStatus::kDegraded);
  ASSERT_EQ(a.mx.size(), 2u);
  EXPECT_FALSE(a.mx[1].covered);
  EXPECT_FALSE(a.mx[1].passes);
  EXPECT_EQ(a.mx[1].problems, std::vector<MxStsProblem>{MxStsProblem::kNotCovered});
}

// P9: a backup MX with a self-signed certificate, or no STARTTLS.
TEST(MtaStsAssessment, EnforceWithOneMxFailingTlsIsDegraded) {
  const std::vector<MxTransport> mx = {{"mx1.example.com", true, true},
                                       {"b.backup.example.com", true, false},
                                       {"c.backup.example.com", false, false}};
  const auto a = assess_mtasts(probe_with({"v=STSv1; id=1"}, FakePolicyFetcher::served(kEnforce)), mx);
  EXPECT_EQ(a.status, MtaStsStatus::kDegraded);
  EXPECT_EQ(a.mx[1].problems, std::vector<MxStsProblem>{MxStsProblem::kWebPkiInvalid});
  EXPECT_EQ(a.mx[2].problems, (std::vector<MxStsProblem>{MxStsProblem::kStarttlsFailed,
                                                         MxStsProblem::kWebPkiInvalid}));
  EXPECT_TRUE(a.mx[0].passes);
}

TEST(MtaStsAssessment, EnforceWithNoMxPassingIsBroken) {
  const std::vector<MxTransport> mx = {{"aspmx.l.google.com", true, true}};
  const auto a = assess_mtasts(
      probe_with({"v=STSv1; id=1"},
                 FakePolicyFetcher::served("version: STSv1\nmode: enforce\nmx: *.google.com\nmax_age: 604800\n")),
      mx);
  EXPECT_EQ(a.status, MtaStsStatus::kBroken);
  EXPECT_FALSE(a.mx[0].covered);
}

TEST(MtaStsAssessment, TestingIsTestingWhateverTheMxChecksSay) {
  const std::string testing =
      "version: STSv1\nmode: testing\nmx: mx1.example.com\nmax_age: 604800\n";
  const std::vector<MxTransport> bad = {{"mx1.example.com", false, false},
                                        {"mx9.example.com", true, true}};
  const auto a = assess_mtasts(probe_with({"v=STSv1; id=1"}, FakePolicyFetcher::served(testing)), bad);
  EXPECT_EQ(a.status, MtaStsStatus::kTesting);
  ASSERT_EQ(a.mx.size(), 2u);
  EXPECT_FALSE(a.mx[0].passes);
  EXPECT_FALSE(a.mx[1].covered);
  EXPECT_EQ(a.mode, StsMode::kTesting);
}

TEST(MtaStsAssessment, ModeNoneIsNotDeployed) {
  const auto a = assess_mtasts(
      probe_with({"v=STSv1; id=1"}, FakePolicyFetcher::served("version: STSv1\nmode: none\nmax_age: 86400\n")),
      kAllGood);
  EXPECT_EQ(a.status, MtaStsStatus::kNotDeployed);
  EXPECT_EQ(a.mode, StsMode::kNone);
}

TEST(MtaStsAssessment, WarningsAreCollected) {
  const auto a = assess_mtasts(
      probe_with({"v=STSv1 ; id=1"},
                 FakePolicyFetcher::served("version: STSv1\nmode: enforce\nmx: mx1.example.com.\nmax_age: 600\n")),
      {{"mx1.example.com", true, true}});
  EXPECT_EQ(a.status, MtaStsStatus::kEnforced);
  EXPECT_EQ(a.warnings.size(), 3u);  // TXT whitespace, mx trailing dot, short max_age
}

// The probe's flow through the Resolver seam.
TEST(MtaStsProbe, FetchesAndParsesWhenTheTxtRecordExists) {
  testing::FakeResolver resolver;
  resolver.set("_mta-sts.example.com", dns::RrType::kTxt,
               {dns::encode_txt({"v=spf1 -all"}), dns::encode_txt({"v=STSv1; id=20240101"})});
  ScriptedFetcher fetcher;
  fetcher.next = FakePolicyFetcher::served(kEnforce);
  const auto p = probe_mtasts(resolver, fetcher, "example.com", Deadline::after(std::chrono::seconds(5)));
  EXPECT_EQ(p.txt.qname, "_mta-sts.example.com");
  ASSERT_TRUE(p.txt.txt.valid()) << p.txt.txt.message;
  EXPECT_EQ(p.txt.txt.record.id, "20240101");
  EXPECT_EQ(fetcher.calls, 1);
  EXPECT_EQ(fetcher.last_domain, "example.com");
  ASSERT_TRUE(p.policy);
  EXPECT_TRUE(p.policy->valid());
  EXPECT_EQ(assess_mtasts(p, kAllGood).status, MtaStsStatus::kEnforced);
}

// P11: no walking up to the parent domain.
TEST(MtaStsProbe, NoTxtMeansNoFetchAndNoParentLookup) {
  testing::FakeResolver resolver;
  resolver.set("_mta-sts.example.com", dns::RrType::kTxt, {dns::encode_txt({"v=STSv1; id=1"})});
  ScriptedFetcher fetcher;
  const auto p = probe_mtasts(resolver, fetcher, "sub.example.com", Deadline::after(std::chrono::seconds(5)));
  EXPECT_EQ(p.txt.txt.error, StsTxtError::kNoRecord);
  EXPECT_EQ(fetcher.calls, 0);
  EXPECT_EQ(resolver.lookups(), 1);
  EXPECT_EQ(assess_mtasts(p, kAllGood).status, MtaStsStatus::kNotDeployed);
}

TEST(MtaStsProbe, BogusTxtIsALookupFailure) {
  testing::FakeResolver resolver;
  resolver.set("_mta-sts.example.com", dns::RrType::kTxt, {dns::encode_txt({"v=STSv1; id=1"})},
               dns::Security::kBogus);
  ScriptedFetcher fetcher;
  const auto p = probe_mtasts(resolver, fetcher, "example.com", Deadline::after(std::chrono::seconds(5)));
  EXPECT_TRUE(p.txt.lookup_failed);
  EXPECT_EQ(fetcher.calls, 0);
  EXPECT_EQ(assess_mtasts(p, kAllGood).status, MtaStsStatus::kBroken);
}

TEST(MtaStsProbe, InvalidTxtStillFetchesForTheOperatorButStaysInvalid) {
  testing::FakeResolver resolver;
  resolver.set("_mta-sts.example.com", dns::RrType::kTxt,
               {dns::encode_txt({"v=STSv1; id=1"}), dns::encode_txt({"v=STSv1; id=2"})});
  ScriptedFetcher fetcher;
  fetcher.next = FakePolicyFetcher::served(kEnforce);
  const auto p = probe_mtasts(resolver, fetcher, "example.com", Deadline::after(std::chrono::seconds(5)));
  EXPECT_EQ(fetcher.calls, 1);
  EXPECT_EQ(assess_mtasts(p, kAllGood).status, MtaStsStatus::kInvalid);
}

}  // namespace
}  // namespace mailtls::mtasts
