// RFC 8460 §4.4 report parsing: docs/verdicts.md R6 vectors, real-world shapes, and every kind of
// invalid input (each with its closed-enum reason).
#include "probes/tlsrpt/report_parser.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <nlohmann/json.hpp>

#include "tests/unit/tlsrpt/fixture.h"

namespace mailtls::tlsrpt {
namespace {

using nlohmann::json;
using testing::read_fixture;
using ::testing::ElementsAre;
using ::testing::HasSubstr;

std::chrono::system_clock::time_point unix_time(long long seconds) {
  return std::chrono::system_clock::time_point(std::chrono::seconds(seconds));
}

bool has_warning(const TlsRptReport& r, ReportDeviation kind) {
  return std::any_of(r.warnings.begin(), r.warnings.end(), [&](const ReportWarning& w) { return w.kind == kind; });
}

// The RFC example as a mutable document, for the invalid variants.
json rfc_example() { return json::parse(read_fixture("rfc8460-appendix-b.json")); }

Rejection expect_rejected(const json& doc) {
  const ReportParseResult r = parse_report(doc.dump());
  EXPECT_FALSE(r.has_value());
  return r ? Rejection{} : r.error();
}

TEST(ReportParser, RfcAppendixBWithMxHostString) {
  const ReportParseResult r = parse_report(read_fixture("rfc8460-appendix-b.json"));
  ASSERT_TRUE(r.has_value()) << r.error().message;
  const TlsRptReport& rep = *r;
  EXPECT_EQ(rep.organization_name, "Company-X");
  EXPECT_EQ(rep.contact_info, "sts-reporting@company-x.example");
  EXPECT_EQ(rep.report_id, "5065427c-23d3-47ca-b6e0-946ea0e8c4be");
  EXPECT_EQ(rep.start, unix_time(1459468800));          // 2016-04-01T00:00:00Z
  EXPECT_EQ(rep.end, unix_time(1459468800 + 86399));    // 2016-04-01T23:59:59Z
  ASSERT_EQ(rep.policies.size(), 1u);
  const PolicyResult& p = rep.policies[0];
  EXPECT_EQ(p.policy_type_kind, PolicyType::kSts);
  EXPECT_THAT(p.policy_strings, ElementsAre("version: STSv1", "mode: testing", "mx: *.mail.company-y.example",
                                            "max_age: 86400"));
  EXPECT_EQ(p.policy_domain, "company-y.example");
  EXPECT_THAT(p.mx_hosts, ElementsAre("*.mail.company-y.example"));
  EXPECT_EQ(p.total_successful_session_count, 5326u);
  EXPECT_EQ(p.total_failure_session_count, 303u);
  ASSERT_EQ(p.failure_details.size(), 3u);
  EXPECT_EQ(p.failure_details[0].result_type_kind, ResultType::kCertificateExpired);
  EXPECT_EQ(p.failure_details[0].failed_session_count, 100u);
  EXPECT_EQ(p.failure_details[1].receiving_ip, "203.0.113.56");
  EXPECT_EQ(p.failure_details[1].result_type_kind, ResultType::kStarttlsNotSupported);
  // The example's failure-error-code is accepted as failure-reason-code, and noted.
  EXPECT_EQ(p.failure_details[2].failure_reason_code, "X509_V_ERR_PROXY_PATH_LENGTH_EXCEEDED");
  EXPECT_TRUE(has_warning(rep, ReportDeviation::kFailureErrorCodeName));
}

TEST(ReportParser, RfcAppendixBWithMxHostArray) {
  const ReportParseResult r = parse_report(read_fixture("rfc8460-appendix-b-mx-array.json"));
  ASSERT_TRUE(r.has_value()) << r.error().message;
  EXPECT_THAT(r->policies[0].mx_hosts, ElementsAre("*.mail.company-y.example"));
}

TEST(ReportParser, GoogleNoPolicyFound) {
  const ReportParseResult r = parse_report(read_fixture("google-no-policy-found.json"));
  ASSERT_TRUE(r.has_value()) << r.error().message;
  ASSERT_EQ(r->policies.size(), 1u);
  EXPECT_EQ(r->policies[0].policy_type_kind, PolicyType::kNoPolicyFound);
  EXPECT_TRUE(r->policies[0].policy_strings.empty());
  EXPECT_TRUE(r->policies[0].mx_hosts.empty());
  EXPECT_EQ(r->policies[0].total_successful_session_count, 42u);
  EXPECT_TRUE(r->warnings.empty());
}

TEST(ReportParser, GoogleStsWithFailures) {
  const ReportParseResult r = parse_report(read_fixture("google-sts.json"));
  ASSERT_TRUE(r.has_value()) << r.error().message;
  const PolicyResult& p = r->policies[0];
  EXPECT_THAT(p.mx_hosts, ElementsAre("mx1.example.net", "mx2.example.net"));
  ASSERT_EQ(p.failure_details.size(), 3u);
  EXPECT_EQ(p.failure_details[2].result_type_kind, ResultType::kStsWebpkiInvalid);
  EXPECT_EQ(p.failure_details[0].sending_mta_ip, "209.85.220.41");
}

TEST(ReportParser, MicrosoftWithoutZoneAndIps) {
  const ReportParseResult r = parse_report(read_fixture("microsoft-tlsa.json"));
  ASSERT_TRUE(r.has_value()) << r.error().message;
  EXPECT_EQ(r->start, unix_time(1749859200));  // 2025-06-14T00:00:00 read as UTC
  EXPECT_TRUE(has_warning(*r, ReportDeviation::kDateTimeWithoutZone));
  const PolicyResult& p = r->policies[0];
  EXPECT_EQ(p.policy_type_kind, PolicyType::kTlsa);
  EXPECT_TRUE(p.policy_strings.empty());
  ASSERT_EQ(p.failure_details.size(), 2u);
  EXPECT_TRUE(p.failure_details[0].sending_mta_ip.empty());
  EXPECT_TRUE(p.failure_details[0].receiving_mx_hostname.empty());
  EXPECT_EQ(p.failure_details[0].receiving_ip, "192.0.2.10");
  EXPECT_EQ(p.failure_details[1].result_type_kind, ResultType::kDnssecInvalid);
}

TEST(ReportParser, PoliciesObjectIsRejected) {
  json doc = rfc_example();
  doc["policies"] = doc["policies"][0];
  const Rejection rej = expect_rejected(doc);
  EXPECT_EQ(rej.reason, RejectionReason::kSchema);
  EXPECT_THAT(rej.message, HasSubstr("policies must be an array"));
}

TEST(ReportParser, CountAsStringIsRejectedNotCoerced) {
  json doc = rfc_example();
  doc["policies"][0]["summary"]["total-failure-session-count"] = "3";
  const Rejection rej = expect_rejected(doc);
  EXPECT_EQ(rej.reason, RejectionReason::kSchema);
  EXPECT_THAT(rej.message, HasSubstr("total-failure-session-count"));
}

TEST(ReportParser, NegativeCountIsRejected) {
  json doc = rfc_example();
  doc["policies"][0]["failure-details"][0]["failed-session-count"] = -1;
  EXPECT_EQ(expect_rejected(doc).reason, RejectionReason::kSchema);
}

TEST(ReportParser, FractionalCountIsRejected) {
  json doc = rfc_example();
  doc["policies"][0]["summary"]["total-successful-session-count"] = 3.5;
  EXPECT_EQ(expect_rejected(doc).reason, RejectionReason::kSchema);
}

TEST(ReportParser, CountAboveUint64IsRejected) {
  std::string text = read_fixture("rfc8460-appendix-b.json");
  const std::string from = "\"total-successful-session-count\": 5326";
  const auto at = text.find(from);
  ASSERT_NE(at, std::string::npos);
  text.replace(at, from.size(), "\"total-successful-session-count\": 18446744073709551616");  // 2^64
  const ReportParseResult r = parse_report(text);
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().reason, RejectionReason::kSchema);
}

TEST(ReportParser, CountAtUint64MaxIsAccepted) {
  std::string text = read_fixture("rfc8460-appendix-b.json");
  const std::string from = "\"total-successful-session-count\": 5326";
  text.replace(text.find(from), from.size(), "\"total-successful-session-count\": 18446744073709551615");
  ReportParseLimits limits;  // the default refuses such a count as implausible (see report_parser_limits_test)
  limits.max_session_count = 18446744073709551615u;
  const ReportParseResult r = parse_report(text, limits);
  ASSERT_TRUE(r.has_value()) << r.error().message;
  EXPECT_EQ(r->policies[0].total_successful_session_count, 18446744073709551615u);
}

TEST(ReportParser, MissingRequiredFields) {
  for (const char* key : {"organization-name", "report-id", "date-range", "policies"}) {
    json doc = rfc_example();
    doc.erase(key);
    const Rejection rej = expect_rejected(doc);
    EXPECT_EQ(rej.reason, RejectionReason::kSchema) << key;
    EXPECT_THAT(rej.message, HasSubstr(key));
  }
  json no_summary = rfc_example();
  no_summary["policies"][0].erase("summary");
  EXPECT_THAT(expect_rejected(no_summary).message, HasSubstr("summary"));
  json no_type = rfc_example();
  no_type["policies"][0]["policy"].erase("policy-type");
  EXPECT_THAT(expect_rejected(no_type).message, HasSubstr("policy-type"));
  json no_start = rfc_example();
  no_start["date-range"].erase("start-datetime");
  EXPECT_THAT(expect_rejected(no_start).message, HasSubstr("start-datetime"));
  json no_count = rfc_example();
  no_count["policies"][0]["failure-details"][1].erase("failed-session-count");
  EXPECT_THAT(expect_rejected(no_count).message, HasSubstr("failure-details[1].failed-session-count"));
  json no_result_type = rfc_example();
  no_result_type["policies"][0]["failure-details"][0].erase("result-type");
  EXPECT_THAT(expect_rejected(no_result_type).message, HasSubstr("result-type"));
}

TEST(ReportParser, WrongTypes) {
  json org = rfc_example();
  org["organization-name"] = 42;
  EXPECT_EQ(expect_rejected(org).reason, RejectionReason::kSchema);
  json range = rfc_example();
  range["date-range"] = "2016-04-01";
  EXPECT_EQ(expect_rejected(range).reason, RejectionReason::kSchema);
  json strings = rfc_example();
  strings["policies"][0]["policy"]["policy-string"] = {1, 2};
  EXPECT_EQ(expect_rejected(strings).reason, RejectionReason::kSchema);
  json mx = rfc_example();
  mx["policies"][0]["policy"]["mx-host"] = 7;
  EXPECT_EQ(expect_rejected(mx).reason, RejectionReason::kSchema);
  json ip = rfc_example();
  ip["policies"][0]["failure-details"][0]["sending-mta-ip"] = json::array();
  EXPECT_EQ(expect_rejected(ip).reason, RejectionReason::kSchema);
  json details = rfc_example();
  details["policies"][0]["failure-details"] = json::object();
  EXPECT_EQ(expect_rejected(details).reason, RejectionReason::kSchema);
  json root = json::array({rfc_example()});
  EXPECT_EQ(expect_rejected(root).reason, RejectionReason::kSchema);
}

TEST(ReportParser, BadDateTimeIsRejected) {
  json doc = rfc_example();
  doc["date-range"]["end-datetime"] = "2016-04-31T00:00:00Z";  // April has 30 days
  EXPECT_EQ(expect_rejected(doc).reason, RejectionReason::kSchema);
}

TEST(ReportParser, NullOptionalFieldsAreAbsent) {
  json doc = rfc_example();
  doc["policies"][0]["failure-details"][0]["receiving-mx-helo"] = nullptr;
  doc["policies"][0]["policy"]["mx-host"] = nullptr;
  const ReportParseResult r = parse_report(doc.dump());
  ASSERT_TRUE(r.has_value()) << r.error().message;
  EXPECT_TRUE(r->policies[0].mx_hosts.empty());
}

TEST(ReportParser, R8TlsaPolicyStringWithInnerSpacesIsNormalised) {
  const ReportParseResult r = parse_report(read_fixture("microsoft-tlsa.json"));
  ASSERT_TRUE(r.has_value());
  json doc = json::parse(read_fixture("microsoft-tlsa.json"));
  doc["policies"][0]["policy"]["policy-string"] = {"3 1 1 000C7016 18C4D3B0", "2 1 1 1A762D6D"};
  const ReportParseResult spaced = parse_report(doc.dump());
  ASSERT_TRUE(spaced.has_value()) << spaced.error().message;
  EXPECT_THAT(spaced->policies[0].policy_strings, ElementsAre("3 1 1 000C701618C4D3B0", "2 1 1 1A762D6D"));
  EXPECT_TRUE(has_warning(*spaced, ReportDeviation::kTlsaPolicyStringSpaces));
  // STS policy lines are never touched.
  json sts = rfc_example();
  sts["policies"][0]["policy"]["policy-string"] = {"mx: a b c d e"};
  EXPECT_THAT(parse_report(sts.dump())->policies[0].policy_strings, ElementsAre("mx: a b c d e"));
}

TEST(ReportParser, UnknownMembersAreIgnored) {
  json doc = rfc_example();
  doc["x-vendor"] = {{"a", 1}};
  doc["policies"][0]["policy"]["x-extra"] = true;
  EXPECT_TRUE(parse_report(doc.dump()).has_value());
}

TEST(ReportParser, UnknownResultTypeIsKeptAsOther) {
  json doc = rfc_example();
  doc["policies"][0]["failure-details"][0]["result-type"] = "certificate-revoked";
  const ReportParseResult r = parse_report(doc.dump());
  ASSERT_TRUE(r.has_value()) << r.error().message;
  const FailureDetail& d = r->policies[0].failure_details[0];
  EXPECT_EQ(d.result_type, "certificate-revoked");
  EXPECT_EQ(d.result_type_kind, ResultType::kOther);
  EXPECT_EQ(result_type_label(d.result_type_kind), "other");
  EXPECT_TRUE(has_warning(*r, ReportDeviation::kUnknownResultType));
}

TEST(ReportParser, MissingPolicyDomainAndContactInfoAreWarnings) {
  json doc = rfc_example();
  doc.erase("contact-info");
  doc["policies"][0]["policy"].erase("policy-domain");
  const ReportParseResult r = parse_report(doc.dump());
  ASSERT_TRUE(r.has_value()) << r.error().message;
  EXPECT_TRUE(has_warning(*r, ReportDeviation::kMissingContactInfo));
  EXPECT_TRUE(has_warning(*r, ReportDeviation::kMissingPolicyDomain));
}

TEST(ReportParser, NotJson) {
  for (const std::string text : {"", "{", "not json", "{\"a\":1}x", "\x1f\x8b\x08"}) {
    const ReportParseResult r = parse_report(text);
    ASSERT_FALSE(r.has_value()) << text;
    EXPECT_EQ(r.error().reason, RejectionReason::kBadJson) << text;
  }
}

TEST(ReportParser, InvalidUtf8IsBadJson) {
  const ReportParseResult r = parse_report("{\"organization-name\":\"\xff\xfe\"}");
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().reason, RejectionReason::kBadJson);
}

TEST(ReportParser, DeepNestingIsRefusedBeforeParsing) {
  const std::string deep = std::string(100000, '[') + std::string(100000, ']');
  const ReportParseResult r = parse_report(deep);
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().reason, RejectionReason::kBadJson);
  EXPECT_THAT(r.error().message, HasSubstr("nested deeper"));
  // Brackets inside strings do not count.
  json doc = rfc_example();
  doc["x"] = std::string(1000, '[');
  EXPECT_TRUE(parse_report(doc.dump()).has_value());
  // Nesting in an unknown member counts too.
  json nested = rfc_example();
  json inner = json::array();
  for (int i = 0; i < 20; ++i) inner = json::array({inner});
  nested["x"] = inner;
  EXPECT_EQ(expect_rejected(nested).reason, RejectionReason::kBadJson);
}

TEST(ReportParser, SizeCap) {
  ReportParseLimits limits;
  limits.max_json_bytes = 100;
  const ReportParseResult r = parse_report(read_fixture("rfc8460-appendix-b.json"), limits);
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().reason, RejectionReason::kTooLarge);
}

TEST(ReportParser, FailureDetailsCap) {
  ReportParseLimits limits;
  limits.max_failure_details = 2;
  const ReportParseResult r = parse_report(read_fixture("rfc8460-appendix-b.json"), limits);
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().reason, RejectionReason::kSchema);
}

TEST(Rfc3339, Forms) {
  EXPECT_EQ(parse_rfc3339("2016-04-01T00:00:00Z")->at, unix_time(1459468800));
  EXPECT_EQ(parse_rfc3339("2016-04-01t00:00:00z")->at, unix_time(1459468800));
  EXPECT_EQ(parse_rfc3339("2016-04-01T02:00:00+02:00")->at, unix_time(1459468800));
  EXPECT_EQ(parse_rfc3339("2016-03-31T19:30:00-04:30")->at, unix_time(1459468800));
  EXPECT_EQ(parse_rfc3339("2016-04-01T00:00:00.250Z")->at,
            unix_time(1459468800) + std::chrono::milliseconds(250));
  EXPECT_EQ(parse_rfc3339("2016-12-31T23:59:60Z")->at, unix_time(1483228799));  // leap second
  const auto no_zone = parse_rfc3339("2016-04-01T00:00:00");
  ASSERT_TRUE(no_zone.has_value());
  EXPECT_FALSE(no_zone->had_zone);
  EXPECT_EQ(no_zone->at, unix_time(1459468800));
  for (const char* bad : {"2016-04-01", "2016-04-01T24:00:00Z", "2016-13-01T00:00:00Z", "2016-02-30T00:00:00Z",
                          "2016-04-01T00:00:00+0200", "2016-04-01T00:00:00.Z", "2016-04-01T00:00:00Zjunk",
                          "16-04-01T00:00:00Z", "2016/04/01T00:00:00Z"}) {
    EXPECT_FALSE(parse_rfc3339(bad).has_value()) << bad;
  }
}

}  // namespace
}  // namespace mailtls::tlsrpt
