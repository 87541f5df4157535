// Issue 17, findings 5 and 11: what a report may cost and claim. The parser reads events, not a
// document, so JSON the RFC does not define costs nothing kept; values, array lengths and
// session counts are bounded, each refusal with a reason that names the limit.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <string>

#include "probes/tlsrpt/report_parser.h"
#include "tests/unit/tlsrpt/fixture.h"

namespace mailtls::tlsrpt {
namespace {

using nlohmann::json;
using testing::read_fixture;
using ::testing::HasSubstr;

json rfc_example() { return json::parse(read_fixture("rfc8460-appendix-b.json")); }

// The RFC example with an unknown member holding `n` empty arrays: "x":[[],[],...].
std::string with_tiny_arrays(std::size_t n) {
  std::string text = rfc_example().dump();
  text.pop_back();
  text += ",\"x\":[";
  for (std::size_t i = 0; i < n; ++i) text += i ? ",[]" : "[]";
  return text + "]}";
}

TEST(ReportParserLimits, ManyTinyArraysInAnUnknownMemberAreRefused) {
  const ReportParseResult r = parse_report(with_tiny_arrays(200'000));
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().reason, RejectionReason::kSchema);
  EXPECT_THAT(r.error().message, HasSubstr("an array of more than 100000 elements"));
}

TEST(ReportParserLimits, UnknownMembersWithinTheLimitsAreIgnored) {
  const ReportParseResult r = parse_report(with_tiny_arrays(1000));
  ASSERT_TRUE(r.has_value()) << r.error().message;
  EXPECT_EQ(r->organization_name, "Company-X");
  ASSERT_EQ(r->policies.size(), 1u);
  EXPECT_EQ(r->policies[0].failure_details.size(), 3u);
}

TEST(ReportParserLimits, ValuesAreCountedOverAllArrays) {
  ReportParseLimits limits;
  limits.max_values = 5000;
  json doc = rfc_example();
  for (int i = 0; i < 10; ++i) doc["x" + std::to_string(i)] = json::array();
  for (int i = 0; i < 10; ++i) {
    for (int k = 0; k < 600; ++k) doc["x" + std::to_string(i)].push_back(k);
  }
  const ReportParseResult r = parse_report(doc.dump(), limits);
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().reason, RejectionReason::kSchema);
  EXPECT_THAT(r.error().message, HasSubstr("more than 5000 JSON values"));
}

TEST(ReportParserLimits, PoliciesCap) {
  ReportParseLimits limits;
  limits.max_policies = 3;
  json doc = rfc_example();
  for (int i = 0; i < 3; ++i) doc["policies"].push_back(doc["policies"][0]);
  const ReportParseResult r = parse_report(doc.dump(), limits);
  ASSERT_FALSE(r.has_value());
  EXPECT_THAT(r.error().message, HasSubstr("more than 3 policies"));
}

TEST(ReportParserLimits, ImplausibleSessionCountsAreRefusedWithTheirPath) {
  json doc = rfc_example();
  doc["policies"][0]["failure-details"][1]["failed-session-count"] = 18446744073709551615u;
  ReportParseResult r = parse_report(doc.dump());
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().reason, RejectionReason::kSchema);
  EXPECT_THAT(r.error().message, HasSubstr("policies[0].failure-details[1].failed-session-count"));
  EXPECT_THAT(r.error().message, HasSubstr("plausible maximum"));

  doc = rfc_example();
  doc["policies"][0]["summary"]["total-successful-session-count"] = 1'000'000'000'001u;
  r = parse_report(doc.dump());
  ASSERT_FALSE(r.has_value());
  EXPECT_THAT(r.error().message, HasSubstr("policies[0].summary.total-successful-session-count"));

  doc["policies"][0]["summary"]["total-successful-session-count"] = 1'000'000'000'000u;  // the cap itself
  r = parse_report(doc.dump());
  EXPECT_TRUE(r.has_value()) << r.error().message;
}

TEST(ReportParserLimits, MembersMayComeInAnyOrder) {
  const std::string text = R"({"policies":[{"summary":{"total-failure-session-count":1,
    "total-successful-session-count":2},"failure-details":[{"failed-session-count":1,
    "result-type":"dane-required"}],"policy":{"policy-domain":"a.example","policy-type":"tlsa"}}],
    "report-id":"r1","date-range":{"end-datetime":"2016-04-01T23:59:59Z",
    "start-datetime":"2016-04-01T00:00:00Z"},"organization-name":"O"})";
  const ReportParseResult r = parse_report(text);
  ASSERT_TRUE(r.has_value()) << r.error().message;
  ASSERT_EQ(r->policies.size(), 1u);
  EXPECT_EQ(r->policies[0].policy_type_kind, PolicyType::kTlsa);
  EXPECT_EQ(r->policies[0].total_successful_session_count, 2u);
  EXPECT_EQ(r->policies[0].failure_details[0].result_type_kind, ResultType::kDaneRequired);
}

TEST(ReportParserLimits, WrongTypesOfContainersNameThePath) {
  json doc = rfc_example();
  doc["policies"][0]["policy"]["policy-string"] = json::array({"a", json::object()});
  ReportParseResult r = parse_report(doc.dump());
  ASSERT_FALSE(r.has_value());
  EXPECT_THAT(r.error().message, HasSubstr("policies[0].policy.policy-string must contain only strings"));
  doc = rfc_example();
  doc["organization-name"] = json::array();
  r = parse_report(doc.dump());
  ASSERT_FALSE(r.has_value());
  EXPECT_THAT(r.error().message, HasSubstr("organization-name must be a string, got an array"));
  doc = rfc_example();
  doc["policies"][0]["summary"] = json::array();
  r = parse_report(doc.dump());
  ASSERT_FALSE(r.has_value());
  EXPECT_THAT(r.error().message, HasSubstr("policies[0].summary must be an object, got an array"));
}

}  // namespace
}  // namespace mailtls::tlsrpt
