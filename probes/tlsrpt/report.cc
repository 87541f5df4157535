#include "probes/tlsrpt/report.h"

#include <array>
#include <utility>

namespace mailtls::tlsrpt {
namespace {

constexpr std::array<std::pair<std::string_view, ResultType>, 11> kResultTypes{{
    {"starttls-not-supported", ResultType::kStarttlsNotSupported},
    {"certificate-host-mismatch", ResultType::kCertificateHostMismatch},
    {"certificate-expired", ResultType::kCertificateExpired},
    {"certificate-not-trusted", ResultType::kCertificateNotTrusted},
    {"validation-failure", ResultType::kValidationFailure},
    {"tlsa-invalid", ResultType::kTlsaInvalid},
    {"dnssec-invalid", ResultType::kDnssecInvalid},
    {"dane-required", ResultType::kDaneRequired},
    {"sts-policy-fetch-error", ResultType::kStsPolicyFetchError},
    {"sts-policy-invalid", ResultType::kStsPolicyInvalid},
    {"sts-webpki-invalid", ResultType::kStsWebpkiInvalid},
}};

}  // namespace

std::string_view policy_type_label(PolicyType t) {
  switch (t) {
    case PolicyType::kTlsa: return "tlsa";
    case PolicyType::kSts: return "sts";
    case PolicyType::kNoPolicyFound: return "no-policy-found";
    case PolicyType::kOther: return "other";
  }
  return "other";
}

PolicyType policy_type_from(std::string_view s) {
  if (s == "tlsa") return PolicyType::kTlsa;
  if (s == "sts") return PolicyType::kSts;
  if (s == "no-policy-found") return PolicyType::kNoPolicyFound;
  return PolicyType::kOther;
}

std::string_view result_type_label(ResultType t) {
  for (const auto& [name, type] : kResultTypes) {
    if (type == t) return name;
  }
  return "other";
}

ResultType result_type_from(std::string_view s) {
  for (const auto& [name, type] : kResultTypes) {
    if (name == s) return type;
  }
  return ResultType::kOther;
}

}  // namespace mailtls::tlsrpt
