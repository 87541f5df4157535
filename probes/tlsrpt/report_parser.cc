#include "probes/tlsrpt/report_parser.h"

#include <cstdint>
#include <limits>
#include <nlohmann/json.hpp>
#include <string>

namespace mailtls::tlsrpt {
namespace {

using nlohmann::json;

constexpr std::size_t kMaxWarnings = 32;  // one bad report must not flood the log

// Deepest nesting of objects and arrays, found without building anything, so a hostile
// "[[[[..." never reaches the JSON library. Stops counting once over the limit.
int nesting_depth(std::string_view text, int limit) {
  int depth = 0;
  int deepest = 0;
  bool in_string = false;
  bool escaped = false;
  for (char c : text) {
    if (in_string) {
      if (escaped) {
        escaped = false;
      } else if (c == '\\') {
        escaped = true;
      } else if (c == '"') {
        in_string = false;
      }
      continue;
    }
    if (c == '"') {
      in_string = true;
    } else if (c == '{' || c == '[') {
      if (++depth > deepest) deepest = depth;
      if (deepest > limit) return deepest;
    } else if (c == '}' || c == ']') {
      --depth;
    }
  }
  return deepest;
}

// Walks a parsed document and fills a TlsRptReport; the first type error stops it.
class ReportReader {
 public:
  explicit ReportReader(const ReportParseLimits& limits) : limits_(limits) {}

  std::optional<Rejection> read(const json& root, TlsRptReport& out) {
    if (!root.is_object()) return schema("the report is not a JSON object");
    if (!required_string(root, "organization-name", "", out.organization_name)) return error_;
    if (!required_string(root, "report-id", "", out.report_id)) return error_;
    if (out.report_id.empty()) return schema("report-id is empty");
    if (!root.contains("contact-info") || root.at("contact-info").is_null()) {
      warn(out, ReportDeviation::kMissingContactInfo, "contact-info is missing");
    } else if (!optional_string(root, "contact-info", "", out.contact_info)) {
      return error_;
    }
    if (!read_date_range(root, out)) return error_;
    const auto policies = root.find("policies");
    if (policies == root.end()) return schema("policies is missing");
    if (!policies->is_array()) return schema("policies must be an array, got " + type_of(*policies));
    if (policies->size() > limits_.max_policies) {
      return schema("more than " + std::to_string(limits_.max_policies) + " policies");
    }
    for (std::size_t i = 0; i < policies->size(); ++i) {
      PolicyResult policy;
      if (!read_policy((*policies)[i], "policies[" + std::to_string(i) + "]", out, policy)) return error_;
      out.policies.push_back(std::move(policy));
    }
    return std::nullopt;
  }

 private:
  static std::string type_of(const json& v) {
    if (v.is_number_float()) return "a non-integer number";
    if (v.is_number_integer() && !v.is_number_unsigned()) return "a negative number";
    return std::string("a ") + v.type_name();
  }

  std::optional<Rejection> schema(std::string message) {
    error_ = Rejection{RejectionReason::kSchema, std::move(message)};
    return error_;
  }
  bool fail(std::string message) {
    schema(std::move(message));
    return false;
  }

  static void warn(TlsRptReport& out, ReportDeviation kind, std::string message) {
    if (out.warnings.size() < kMaxWarnings) out.warnings.push_back({kind, std::move(message)});
  }

  static std::string path_of(std::string_view prefix, std::string_view key) {
    return prefix.empty() ? std::string(key) : std::string(prefix) + "." + std::string(key);
  }

  bool required_string(const json& obj, std::string_view key, std::string_view prefix, std::string& out) {
    const auto it = obj.find(key);
    if (it == obj.end() || it->is_null()) return fail(path_of(prefix, key) + " is missing");
    if (!it->is_string()) return fail(path_of(prefix, key) + " must be a string, got " + type_of(*it));
    out = it->get<std::string>();
    return true;
  }

  // Absent and null are the same: empty. Present with another type is an error.
  bool optional_string(const json& obj, std::string_view key, std::string_view prefix, std::string& out) {
    const auto it = obj.find(key);
    if (it == obj.end() || it->is_null()) return true;
    if (!it->is_string()) return fail(path_of(prefix, key) + " must be a string, got " + type_of(*it));
    out = it->get<std::string>();
    return true;
  }

  bool string_array(const json& v, const std::string& path, std::vector<std::string>& out) {
    if (!v.is_array()) return fail(path + " must be an array of strings, got " + type_of(v));
    for (const json& e : v) {
      if (!e.is_string()) return fail(path + " must contain only strings, found " + type_of(e));
      out.push_back(e.get<std::string>());
    }
    return true;
  }

  // A count is a JSON integer in [0, 2^64). nlohmann gives number_unsigned for those, a signed
  // integer for negatives and a float for anything fractional, exponent-written or too large.
  bool required_count(const json& obj, std::string_view key, std::string_view prefix, std::uint64_t& out) {
    const auto it = obj.find(key);
    if (it == obj.end() || it->is_null()) return fail(path_of(prefix, key) + " is missing");
    if (it->is_number_unsigned()) {
      out = it->get<std::uint64_t>();
      return true;
    }
    if (it->is_number_integer() && it->get<std::int64_t>() == 0) {  // "-0"
      out = 0;
      return true;
    }
    return fail(path_of(prefix, key) + " must be a non-negative integer below 2^64, got " + type_of(*it));
  }

  bool date_time(const json& range, std::string_view key, TlsRptReport& out,
                 std::chrono::system_clock::time_point& at) {
    std::string text;
    if (!required_string(range, key, "date-range", text)) return false;
    const auto parsed = parse_rfc3339(text);
    if (!parsed) return fail("date-range." + std::string(key) + " \"" + text + "\" is not an RFC 3339 date-time");
    if (!parsed->had_zone) {
      warn(out, ReportDeviation::kDateTimeWithoutZone,
           "date-range." + std::string(key) + " \"" + text + "\" has no time zone; read as UTC");
    }
    at = parsed->at;
    return true;
  }

  bool read_date_range(const json& root, TlsRptReport& out) {
    const auto it = root.find("date-range");
    if (it == root.end() || it->is_null()) return fail("date-range is missing");
    if (!it->is_object()) return fail("date-range must be an object, got " + type_of(*it));
    if (!date_time(*it, "start-datetime", out, out.start)) return false;
    if (!date_time(*it, "end-datetime", out, out.end)) return false;
    if (out.end < out.start) warn(out, ReportDeviation::kEndBeforeStart, "date-range ends before it starts");
    return true;
  }

  bool read_policy(const json& v, const std::string& path, TlsRptReport& report, PolicyResult& out) {
    if (!v.is_object()) return fail(path + " must be an object, got " + type_of(v));
    const auto policy = v.find("policy");
    if (policy == v.end() || policy->is_null()) return fail(path + ".policy is missing");
    if (!policy->is_object()) return fail(path + ".policy must be an object, got " + type_of(*policy));
    const std::string ppath = path + ".policy";
    if (!required_string(*policy, "policy-type", ppath, out.policy_type)) return false;
    out.policy_type_kind = policy_type_from(out.policy_type);
    if (out.policy_type_kind == PolicyType::kOther) {
      warn(report, ReportDeviation::kUnknownPolicyType, ppath + ".policy-type \"" + out.policy_type + "\" is unknown");
    }
    if (const auto ps = policy->find("policy-string"); ps != policy->end() && !ps->is_null()) {
      if (!string_array(*ps, ppath + ".policy-string", out.policy_strings)) return false;
    }
    if (out.policy_type_kind == PolicyType::kTlsa) normalize_tlsa_strings(ppath, report, out.policy_strings);
    if (!optional_string(*policy, "policy-domain", ppath, out.policy_domain)) return false;
    if (out.policy_domain.empty()) {
      warn(report, ReportDeviation::kMissingPolicyDomain, ppath + ".policy-domain is missing");
    }
    if (const auto mx = policy->find("mx-host"); mx != policy->end() && !mx->is_null()) {
      if (mx->is_string()) {
        out.mx_hosts.push_back(mx->get<std::string>());
      } else if (!string_array(*mx, ppath + ".mx-host", out.mx_hosts)) {
        return false;
      }
    }

    const auto summary = v.find("summary");
    if (summary == v.end() || summary->is_null()) return fail(path + ".summary is missing");
    if (!summary->is_object()) return fail(path + ".summary must be an object, got " + type_of(*summary));
    const std::string spath = path + ".summary";
    if (!required_count(*summary, "total-successful-session-count", spath, out.total_successful_session_count) ||
        !required_count(*summary, "total-failure-session-count", spath, out.total_failure_session_count)) {
      return false;
    }

    const auto details = v.find("failure-details");
    if (details == v.end() || details->is_null()) return true;
    if (!details->is_array()) return fail(path + ".failure-details must be an array, got " + type_of(*details));
    for (std::size_t i = 0; i < details->size(); ++i) {
      if (++failure_details_seen_ > limits_.max_failure_details) {
        return fail("more than " + std::to_string(limits_.max_failure_details) + " failure-details");
      }
      FailureDetail d;
      if (!read_failure_detail((*details)[i], path + ".failure-details[" + std::to_string(i) + "]", report, d)) {
        return false;
      }
      out.failure_details.push_back(std::move(d));
    }
    return true;
  }

  // RFC 8460 §4.5: a TLSA policy-string is "u s m HEX" with no spaces inside the hex. Some
  // reporters split the hex into blocks; the record is still unambiguous, so join it and warn.
  static void normalize_tlsa_strings(const std::string& path, TlsRptReport& report, std::vector<std::string>& strings) {
    for (std::string& s : strings) {
      std::vector<std::string> tokens;
      std::size_t pos = 0;
      while (pos < s.size()) {
        const auto begin = s.find_first_not_of(" \t", pos);
        if (begin == std::string::npos) break;
        const auto end = s.find_first_of(" \t", begin);
        tokens.push_back(s.substr(begin, end == std::string::npos ? std::string::npos : end - begin));
        pos = end == std::string::npos ? s.size() : end;
      }
      if (tokens.size() <= 4) continue;
      std::string joined = tokens[0] + " " + tokens[1] + " " + tokens[2] + " ";
      for (std::size_t i = 3; i < tokens.size(); ++i) joined += tokens[i];
      warn(report, ReportDeviation::kTlsaPolicyStringSpaces,
           path + ".policy-string \"" + s + "\" has spaces inside the hex; read as \"" + joined + "\"");
      s = std::move(joined);
    }
  }

  bool read_failure_detail(const json& v, const std::string& path, TlsRptReport& report, FailureDetail& d) {
    if (!v.is_object()) return fail(path + " must be an object, got " + type_of(v));
    if (!required_string(v, "result-type", path, d.result_type)) return false;
    d.result_type_kind = result_type_from(d.result_type);
    if (d.result_type_kind == ResultType::kOther) {
      warn(report, ReportDeviation::kUnknownResultType,
           path + ".result-type \"" + d.result_type + "\" is not in the registry; counted as other");
    }
    if (!optional_string(v, "sending-mta-ip", path, d.sending_mta_ip) ||
        !optional_string(v, "receiving-mx-hostname", path, d.receiving_mx_hostname) ||
        !optional_string(v, "receiving-mx-helo", path, d.receiving_mx_helo) ||
        !optional_string(v, "receiving-ip", path, d.receiving_ip) ||
        !optional_string(v, "additional-information", path, d.additional_information) ||
        !required_count(v, "failed-session-count", path, d.failed_session_count) ||
        !optional_string(v, "failure-reason-code", path, d.failure_reason_code)) {
      return false;
    }
    // The RFC's own example (Appendix B) names it failure-error-code.
    if (d.failure_reason_code.empty() && v.contains("failure-error-code")) {
      if (!optional_string(v, "failure-error-code", path, d.failure_reason_code)) return false;
      warn(report, ReportDeviation::kFailureErrorCodeName, path + " uses failure-error-code for failure-reason-code");
    }
    return true;
  }

  const ReportParseLimits& limits_;
  std::size_t failure_details_seen_ = 0;
  std::optional<Rejection> error_;
};

// Reads exactly n digits as a number; false if any is not a digit.
bool digits(std::string_view s, std::size_t pos, std::size_t n, int& out) {
  if (pos + n > s.size()) return false;
  out = 0;
  for (std::size_t i = pos; i < pos + n; ++i) {
    if (s[i] < '0' || s[i] > '9') return false;
    out = out * 10 + (s[i] - '0');
  }
  return true;
}

}  // namespace

std::optional<ParsedDateTime> parse_rfc3339(std::string_view s) {
  // full-date "T" partial-time [time-offset]; RFC 3339 §5.6 allows 't'/'z' and, by note, ' '.
  int year = 0, month = 0, day = 0, hour = 0, minute = 0, second = 0;
  if (!digits(s, 0, 4, year) || s.size() < 19 || s[4] != '-' || !digits(s, 5, 2, month) || s[7] != '-' ||
      !digits(s, 8, 2, day) || (s[10] != 'T' && s[10] != 't' && s[10] != ' ') || !digits(s, 11, 2, hour) ||
      s[13] != ':' || !digits(s, 14, 2, minute) || s[16] != ':' || !digits(s, 17, 2, second)) {
    return std::nullopt;
  }
  const std::chrono::year_month_day ymd{std::chrono::year{year}, std::chrono::month{static_cast<unsigned>(month)},
                                        std::chrono::day{static_cast<unsigned>(day)}};
  if (!ymd.ok() || hour > 23 || minute > 59 || second > 60) return std::nullopt;
  if (second == 60) second = 59;
  std::size_t pos = 19;
  std::chrono::nanoseconds fraction{0};
  if (pos < s.size() && s[pos] == '.') {
    ++pos;
    const std::size_t begin = pos;
    std::int64_t scale = 100'000'000;
    while (pos < s.size() && s[pos] >= '0' && s[pos] <= '9') {
      fraction += std::chrono::nanoseconds((s[pos] - '0') * scale);
      scale /= 10;
      ++pos;
    }
    if (pos == begin) return std::nullopt;
  }
  ParsedDateTime parsed;
  std::chrono::minutes offset{0};
  if (pos == s.size()) {
    parsed.had_zone = false;
  } else if ((s[pos] == 'Z' || s[pos] == 'z') && pos + 1 == s.size()) {
  } else if ((s[pos] == '+' || s[pos] == '-') && pos + 6 == s.size() && s[pos + 3] == ':') {
    int oh = 0, om = 0;
    if (!digits(s, pos + 1, 2, oh) || !digits(s, pos + 4, 2, om) || oh > 23 || om > 59) return std::nullopt;
    offset = std::chrono::minutes(oh * 60 + om);
    if (s[pos] == '-') offset = -offset;
  } else {
    return std::nullopt;
  }
  const auto local = std::chrono::sys_days{ymd} + std::chrono::hours(hour) + std::chrono::minutes(minute) +
                     std::chrono::seconds(second);
  parsed.at = std::chrono::time_point_cast<std::chrono::system_clock::duration>(local - offset + fraction);
  return parsed;
}

ReportParseResult parse_report(std::string_view text, const ReportParseLimits& limits) {
  ReportParseResult result;
  if (text.size() > limits.max_json_bytes) {
    result.rejection = Rejection{RejectionReason::kTooLarge, "report is " + std::to_string(text.size()) +
                                                                 " bytes, over the limit of " +
                                                                 std::to_string(limits.max_json_bytes)};
    return result;
  }
  if (nesting_depth(text, limits.max_depth) > limits.max_depth) {
    result.rejection = Rejection{RejectionReason::kBadJson,
                                 "JSON nested deeper than " + std::to_string(limits.max_depth) + " levels"};
    return result;
  }
  json root;
  try {
    root = json::parse(text.begin(), text.end());
  } catch (const json::exception& e) {  // the library's way of saying "not JSON"; not ours to rethrow
    result.rejection = Rejection{RejectionReason::kBadJson, e.what()};
    return result;
  }
  ReportReader reader(limits);
  result.rejection = reader.read(root, result.report);
  if (!result.ok()) result.report = {};
  return result;
}

}  // namespace mailtls::tlsrpt
