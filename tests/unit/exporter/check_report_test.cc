#include "exporter/cli/check_report.h"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "tests/unit/exporter/scripted_prober.h"

namespace mailtls::exporter {
namespace {

using mailtls::testing::sample_report;

TEST(CheckReport, TextNamesVerdictsRecordsAndCertificates) {
  const auto text = format_check_text(sample_report("a.example"), /*color=*/false, std::chrono::system_clock::now());
  EXPECT_NE(text.find("a.example\n  DANE:    valid\n  MTA-STS: enforced\n"), std::string::npos) << text;
  EXPECT_NE(text.find("MX 10 mx.a.example"), std::string::npos);
  EXPECT_NE(text.find("3 1 1 abab"), std::string::npos);
  EXPECT_NE(text.find("127.0.1.1: connect ok, STARTTLS ok, TLSv1.3"), std::string::npos) << text;
  EXPECT_NE(text.find("DANE match"), std::string::npos);
  EXPECT_NE(text.find("MTA-STS TXT: valid, id=20240101"), std::string::npos);
  EXPECT_EQ(text.find("\033["), std::string::npos) << "no colour codes when not a terminal";
  EXPECT_NE(format_check_text(sample_report("a.example"), true, std::chrono::system_clock::now()).find("\033[32mvalid\033[0m"), std::string::npos);
}

TEST(CheckReport, TextExplainsF1) {
  auto r = sample_report("a.example");
  r.dane_status = dane::DaneStatus::kBroken;
  r.mx[0].renewed_without_tlsa_update = true;
  r.mx[0].addresses[0].dane_match = false;
  r.mx[0].addresses[0].dane_result_type = "tlsa-invalid";
  const auto text = format_check_text(r, false, std::chrono::system_clock::now());
  EXPECT_NE(text.find("DANE:    broken"), std::string::npos);
  EXPECT_NE(text.find("certificate renewed after the TLSA records were published"), std::string::npos);
  EXPECT_NE(text.find("DANE NO MATCH (tlsa-invalid)"), std::string::npos);
}

// F2/T11: a record matching no chain presented anywhere is marked stale, and a combination none
// of whose records matches is listed, in the text and in the JSON.
TEST(CheckReport, TextAndJsonShowStaleRecordsAndCombinations) {
  auto r = sample_report("a.example");
  domain::TlsaRecordReport old;
  old.record = {2, 1, 1, std::vector<std::uint8_t>(32, 0xef)};
  old.usable = true;
  old.stale = true;
  for (const auto& a : r.mx[0].addresses) old.matches[a.address] = false;
  r.mx[0].tlsa.push_back(old);
  r.mx[0].stale_groups = {{2, 1, 1}};
  const auto text = format_check_text(r, false, std::chrono::system_clock::now());
  EXPECT_NE(text.find("2 1 1 efef"), std::string::npos) << text;
  EXPECT_NE(text.find("efef  stale: matches no chain presented at any address (an old key"), std::string::npos) << text;
  EXPECT_NE(text.find("stale combinations (T11): 2 1 1"), std::string::npos) << text;
  EXPECT_EQ(format_check_text(sample_report("a.example"), false, std::chrono::system_clock::now()).find("stale"),
            std::string::npos);
  const auto j = nlohmann::json::parse(format_check_json({r}, {}));
  const auto& mx = j["domains"][0]["mx"][0];
  ASSERT_EQ(mx["tlsa"].size(), 2u);
  EXPECT_EQ(mx["tlsa"][0]["stale"], false);
  EXPECT_EQ(mx["tlsa"][1]["stale"], true);
  EXPECT_EQ(mx["stale_groups"], nlohmann::json::array({"2 1 1"}));
}

// A key-type answer kept from an earlier probe (smtp.key_type_recheck_interval) says when it was
// made, in the text and the JSON; one asked at this probe says nothing more.
TEST(CheckReport, AKeptKeyTypeAnswerSaysWhenItWasMade) {
  auto r = sample_report("a.example");
  auto& a = r.mx[0].addresses[0];
  a.key_type = "ecdsa";
  a.other_key_type_offer = "not_offered";
  const auto now = std::chrono::system_clock::now();
  const auto fresh = format_check_text(r, false, now);
  EXPECT_NE(fresh.find(", ecdsa only"), std::string::npos) << fresh;
  EXPECT_EQ(fresh.find("other key type as checked"), std::string::npos) << fresh;
  a.other_key_type_checked_earlier = SystemTime(std::chrono::seconds(1'800'000'000));  // 2027-01-15 08:00 UTC
  const auto kept = format_check_text(r, false, now);
  EXPECT_NE(kept.find(", ecdsa only (other key type as checked 2027-01-15 08:00 UTC)"), std::string::npos) << kept;
  const auto j = nlohmann::json::parse(format_check_json({r}, {}));
  EXPECT_EQ(j["domains"][0]["mx"][0]["addresses"][0]["other_key_type_checked"], 1'800'000'000.0);
}

const domain::ResolverSelfTestState kValidating{domain::ResolverValidation::kValidating,
                                                "signed.test A: secure data"};
const domain::ResolverSelfTestState kNotValidating{
    domain::ResolverValidation::kNotValidating,
    "known-signed name did not validate secure: signed.test A: bogus"};

// What a probe through a resolver with a wrong trust anchor gives once the rule has judged it.
domain::DomainReport not_validated_report(const std::string& name) {
  auto r = sample_report(name);
  r.dane_status = dane::DaneStatus::kBogus;
  r.mtasts.status = mtasts::MtaStsStatus::kBroken;
  r.rrsets[0].security = dns::Security::kBogus;
  domain::mark_no_verdict(r, domain::NoVerdictReason::kResolverNotValidating,
                          "resolver not validating: " + kNotValidating.reason);
  return r;
}

TEST(CheckReport, JsonIsParseable) {
  auto j = nlohmann::json::parse(
      format_check_json({sample_report("a.example"), sample_report("b.example")}, kValidating));
  const auto& d = j["domains"];
  ASSERT_EQ(d.size(), 2u);
  EXPECT_EQ(d[0]["dane_status"], "valid");
  EXPECT_EQ(d[0]["no_verdict"], nullptr);
  EXPECT_EQ(d[1]["mx"][0]["addresses"][1]["address"], "::1");
  EXPECT_EQ(d[0]["mx"][0]["tlsa"][0]["usable"], true);
  EXPECT_EQ(j["resolver"]["validating"], true);
  EXPECT_EQ(j["resolver"]["reason"], "signed.test A: secure data");
}

// The resolver's state sits at the top level: validating false with the self-test's reason,
// and each domain says it has no verdict, and why, instead of "bogus".
TEST(CheckReport, JsonCarriesTheResolverState) {
  auto j =
      nlohmann::json::parse(format_check_json({not_validated_report("a.example")}, kNotValidating));
  EXPECT_EQ(j["resolver"]["validating"], false);
  EXPECT_EQ(j["resolver"]["reason"], kNotValidating.reason);
  const auto& d = j["domains"][0];
  EXPECT_EQ(d["no_verdict"], "resolver_not_validating");
  EXPECT_EQ(d["probe_success"], false);
  EXPECT_EQ(d["dane_status"], "not checked: resolver not validating");
  EXPECT_EQ(d["mtasts_status"], "not checked: resolver not validating");
  EXPECT_EQ(d["dnssec"][0]["security"], "indeterminate");
  auto unknown = nlohmann::json::parse(format_check_json({sample_report("a.example")}, {}));
  EXPECT_EQ(unknown["resolver"]["validating"], nullptr);  // the self-test has not finished
}

TEST(CheckReport, TextSaysTheResolverIsAtFault) {
  const auto text = format_check_text(not_validated_report("a.example"), false, std::chrono::system_clock::now());
  EXPECT_NE(text.find("no verdict: the exporter's resolver does not validate DNSSEC (resolver not "
                      "validating: known-signed name did not validate secure"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("not the domain's fault"), std::string::npos);
  EXPECT_NE(text.find("DANE:    not checked: resolver not validating"), std::string::npos) << text;
  EXPECT_EQ(text.find("bogus\n"), std::string::npos) << text;
  EXPECT_EQ(text.find("probe failed"), std::string::npos) << text;
}

TEST(CheckReport, ExitCodes) {
  auto good = sample_report("a.example");
  EXPECT_EQ(check_exit_code({good}), 0);
  auto degraded = good;
  degraded.dane_status = dane::DaneStatus::kDegraded;
  EXPECT_EQ(check_exit_code({good, degraded}), 1);
  auto sts = good;
  sts.mtasts.status = mtasts::MtaStsStatus::kBroken;
  EXPECT_EQ(check_exit_code({sts}), 1);
  auto bogus = good;
  bogus.dane_status = dane::DaneStatus::kBogus;
  EXPECT_EQ(check_exit_code({bogus}), 1);
  auto failed = good;
  failed.probe_success = false;
  EXPECT_EQ(check_exit_code({degraded, failed}), 2);
  auto not_deployed = good;
  not_deployed.dane_status = dane::DaneStatus::kNotDeployed;
  not_deployed.mtasts.status = mtasts::MtaStsStatus::kNotDeployed;
  EXPECT_EQ(check_exit_code({not_deployed}), 0);
}

// The monitor's fault is 2 ("could not be probed"), not 1 ("the domain is broken").
TEST(CheckReport, ExitCodeIsTwoWithoutAVerdict) {
  auto good = sample_report("a.example");
  EXPECT_EQ(check_exit_code({good, not_validated_report("b.example")}), 2);
  EXPECT_EQ(check_exit_code({not_validated_report("b.example")}), 2);
  auto unreachable = good;
  domain::mark_no_verdict(unreachable, domain::NoVerdictReason::kResolverUnreachable,
                          "resolver unreachable: A x.signed.test: error");
  EXPECT_EQ(check_exit_code({unreachable}), 2);
}

}  // namespace
}  // namespace mailtls::exporter
