#pragma once
// An RFC 8460 §4.4 aggregate report as plain data. Optional JSON members that real reporters
// omit (Microsoft: no IP fields, no policy-string) are empty strings / empty vectors here.

#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace mailtls::tlsrpt {

enum class PolicyType { kTlsa, kSts, kNoPolicyFound, kOther };

// The IANA "STARTTLS Validation Result Types" registry (RFC 8460 §4.3), plus kOther for any
// value outside it: a closed set, so it can label a metric.
enum class ResultType {
  kStarttlsNotSupported,
  kCertificateHostMismatch,
  kCertificateExpired,
  kCertificateNotTrusted,
  kValidationFailure,
  kTlsaInvalid,
  kDnssecInvalid,
  kDaneRequired,
  kStsPolicyFetchError,
  kStsPolicyInvalid,
  kStsWebpkiInvalid,
  kOther,
};

std::string_view policy_type_label(PolicyType t);   // "tlsa", "sts", "no-policy-found", "other"
std::string_view result_type_label(ResultType t);   // the registry name, or "other"
PolicyType policy_type_from(std::string_view s);    // exact, case-sensitive match
ResultType result_type_from(std::string_view s);    // exact, case-sensitive match

struct FailureDetail {
  std::string result_type;  // as sent, possibly outside the registry
  ResultType result_type_kind = ResultType::kOther;
  std::string sending_mta_ip;
  std::string receiving_mx_hostname;
  std::string receiving_mx_helo;
  std::string receiving_ip;
  std::uint64_t failed_session_count = 0;
  std::string additional_information;
  std::string failure_reason_code;  // also filled from the RFC example's "failure-error-code"
};

struct PolicyResult {
  std::string policy_type;  // as sent
  PolicyType policy_type_kind = PolicyType::kOther;
  std::vector<std::string> policy_strings;
  std::string policy_domain;         // "" when the reporter omitted it (seen in the wild)
  std::vector<std::string> mx_hosts; // "mx-host" as a string (RFC example) or array (erratum 6241)
  std::uint64_t total_successful_session_count = 0;
  std::uint64_t total_failure_session_count = 0;
  std::vector<FailureDetail> failure_details;
};

// Deviations from RFC 8460 that the parser accepted; the exporter may count them.
enum class ReportDeviation {
  kDateTimeWithoutZone,   // taken as UTC
  kFailureErrorCodeName,  // "failure-error-code" instead of "failure-reason-code"
  kMissingContactInfo,
  kMissingPolicyDomain,
  kUnknownPolicyType,
  kUnknownResultType,
  kEndBeforeStart,
  kTlsaPolicyStringSpaces,  // "3 1 1 000C7016 18C4..." (R8): normalised to one hex token
};

struct ReportWarning {
  ReportDeviation kind;
  std::string message;
};

struct TlsRptReport {
  std::string organization_name;
  std::chrono::system_clock::time_point start;
  std::chrono::system_clock::time_point end;
  std::string contact_info;
  std::string report_id;
  std::vector<PolicyResult> policies;
  std::vector<ReportWarning> warnings;
};

}  // namespace mailtls::tlsrpt
