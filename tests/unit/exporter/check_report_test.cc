#include "exporter/check_report.h"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "tests/unit/exporter/scripted_prober.h"

namespace mailtls::exporter {
namespace {

using mailtls::testing::sample_report;

TEST(CheckReport, TextNamesVerdictsRecordsAndCertificates) {
  const auto text = format_check_text(sample_report("a.example"), /*color=*/false);
  EXPECT_NE(text.find("a.example\n  DANE:    valid\n  MTA-STS: enforced\n"), std::string::npos) << text;
  EXPECT_NE(text.find("MX 10 mx.a.example"), std::string::npos);
  EXPECT_NE(text.find("3 1 1 abab"), std::string::npos);
  EXPECT_NE(text.find("127.0.1.1: connect ok, STARTTLS ok, TLSv1.3"), std::string::npos) << text;
  EXPECT_NE(text.find("DANE match"), std::string::npos);
  EXPECT_NE(text.find("MTA-STS TXT: valid, id=20240101"), std::string::npos);
  EXPECT_EQ(text.find("\033["), std::string::npos) << "no colour codes when not a terminal";
  EXPECT_NE(format_check_text(sample_report("a.example"), true).find("\033[32mvalid\033[0m"), std::string::npos);
}

TEST(CheckReport, TextExplainsF1) {
  auto r = sample_report("a.example");
  r.dane_status = "broken";
  r.mx[0].renewed_without_tlsa_update = true;
  r.mx[0].addresses[0].dane_match = false;
  r.mx[0].addresses[0].dane_result_type = "tlsa-invalid";
  const auto text = format_check_text(r, false);
  EXPECT_NE(text.find("DANE:    broken"), std::string::npos);
  EXPECT_NE(text.find("certificate renewed after the TLSA records were published"), std::string::npos);
  EXPECT_NE(text.find("DANE NO MATCH (tlsa-invalid)"), std::string::npos);
}

TEST(CheckReport, JsonIsParseable) {
  auto j = nlohmann::json::parse(format_check_json({sample_report("a.example"), sample_report("b.example")}));
  ASSERT_EQ(j.size(), 2u);
  EXPECT_EQ(j[0]["dane_status"], "valid");
  EXPECT_EQ(j[1]["mx"][0]["addresses"][1]["address"], "::1");
  EXPECT_EQ(j[0]["mx"][0]["tlsa"][0]["usable"], true);
}

TEST(CheckReport, ExitCodes) {
  auto good = sample_report("a.example");
  EXPECT_EQ(check_exit_code({good}), 0);
  auto degraded = good;
  degraded.dane_status = "degraded";
  EXPECT_EQ(check_exit_code({good, degraded}), 1);
  auto sts = good;
  sts.mtasts.status = "broken";
  EXPECT_EQ(check_exit_code({sts}), 1);
  auto bogus = good;
  bogus.dane_status = "bogus";
  EXPECT_EQ(check_exit_code({bogus}), 1);
  auto failed = good;
  failed.probe_success = false;
  EXPECT_EQ(check_exit_code({degraded, failed}), 2);
  auto not_deployed = good;
  not_deployed.dane_status = "not_deployed";
  not_deployed.mtasts.status = "not_deployed";
  EXPECT_EQ(check_exit_code({not_deployed}), 0);
}

}  // namespace
}  // namespace mailtls::exporter
