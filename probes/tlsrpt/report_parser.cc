#include "probes/tlsrpt/report_parser.h"

#include <cstdint>
#include <limits>
#include <optional>
#include <vector>
#include <nlohmann/json.hpp>
#include <string>

namespace mailtls::tlsrpt {
namespace {

using nlohmann::json;

constexpr std::size_t kMaxWarnings = 32;  // one bad report must not flood the log

// Where a value sits in an RFC 8460 §4.4 report. kSkip: inside a member the RFC does not
// define, read (the JSON must be valid) but never stored.
enum class Ctx {
  kRoot, kDateRange, kPolicies, kPolicyItem, kPolicy, kPolicyStrings, kMxHosts, kSummary, kDetails, kDetail, kSkip,
};

// One JSON scalar as the SAX parser delivered it.
struct Scalar {
  enum class Type { kNull, kBoolean, kNegative, kUnsigned, kFloat, kString } type;
  std::uint64_t u = 0;
  const std::string* s = nullptr;
  bool zero = false;  // a kNegative that is 0 ("-0")
};

// Reads the report from nlohmann-json's SAX events straight into a TlsRptReport, keeping only
// the members RFC 8460 defines. No document is built: a DOM of a 20 MB report of tiny arrays
// took ~340 MB (issue 17, finding 5). Depth, values and array lengths are bounded; exceeding
// one stops the parse. After the first schema error nothing more is kept, but the rest is still
// read, so that input that is not JSON at all is refused as bad_json, as a DOM parser would.
// Member order is free; required members are checked when their object ends.
class ReportSax final : public nlohmann::json_sax<json> {
 public:
  ReportSax(const ReportParseLimits& limits, TlsRptReport& out) : limits_(limits), out_(out) {}

  // The refusal, if any: a limit or a JSON syntax error, else the first schema error.
  std::optional<Rejection> rejection() const { return stop_ ? stop_ : schema_; }

  bool null() override { return scalar({Scalar::Type::kNull}); }
  bool boolean(bool) override { return scalar({Scalar::Type::kBoolean}); }
  bool number_integer(number_integer_t v) override {
    return scalar({Scalar::Type::kNegative, 0, nullptr, v == 0});
  }
  bool number_unsigned(number_unsigned_t v) override { return scalar({Scalar::Type::kUnsigned, v}); }
  bool number_float(number_float_t, const string_t&) override { return scalar({Scalar::Type::kFloat}); }
  bool string(string_t& v) override { return scalar({Scalar::Type::kString, 0, &v}); }
  bool binary(binary_t&) override { return bad_json("binary values are not JSON"); }

  bool start_object(std::size_t) override { return open(true); }
  bool start_array(std::size_t) override { return open(false); }
  bool key(string_t& k) override {
    if (stack_.back().ctx != Ctx::kSkip) stack_.back().key = k;
    return true;
  }
  // A missing member is a schema error, which does not stop reading (see fail()).
  bool end_object() override {
    close();
    return true;
  }
  bool end_array() override {
    close();
    return true;
  }

  bool parse_error(std::size_t, const std::string&, const nlohmann::detail::exception& e) override {
    return bad_json(e.what());
  }

 private:
  // Members that must be present, one bit each per object.
  enum Seen : unsigned {
    kOrganization = 1, kReportId = 2, kContact = 4, kDateRange = 8, kPolicies = 16, kStart = 32, kEnd = 64,
    kPolicyObj = 128, kSummaryObj = 256, kPolicyType = 512, kSuccessful = 1024, kFailed = 2048,
    kResultType = 4096, kFailedCount = 8192, kReasonCode = 16384,
  };
  struct Frame {
    Ctx ctx;
    bool object;
    std::string path;  // "policies[0].policy"; empty in kSkip
    std::string key;   // the member being read (objects)
    std::size_t elements = 0;
    unsigned seen = 0;
  };

  static std::string type_of(const Scalar& v) {
    switch (v.type) {
      case Scalar::Type::kNull: return "a null";
      case Scalar::Type::kBoolean: return "a boolean";
      case Scalar::Type::kNegative: return "a negative number";
      case Scalar::Type::kUnsigned: return "a number";
      case Scalar::Type::kFloat: return "a non-integer number";
      case Scalar::Type::kString: return "a string";
    }
    return "a value";
  }
  static std::string path_of(std::string_view prefix, std::string_view key) {
    return prefix.empty() ? std::string(key) : std::string(prefix) + "." + std::string(key);
  }

  // A schema error: remembered (the first one), then the rest is only read.
  bool fail(std::string message) {
    if (!schema_) schema_ = Rejection{RejectionReason::kSchema, std::move(message)};
    return true;
  }
  // Over a limit: stops the parse.
  bool stop(RejectionReason reason, std::string message) {
    if (!stop_) stop_ = Rejection{reason, std::move(message)};
    return false;
  }
  bool bad_json(std::string message) { return stop(RejectionReason::kBadJson, std::move(message)); }
  void warn(ReportDeviation kind, std::string message) {
    if (out_.warnings.size() < kMaxWarnings) out_.warnings.push_back({kind, std::move(message)});
  }

  // Every value counts against max_values, and against its array's max_array_length.
  bool count_value() {
    if (++values_ > limits_.max_values) {
      return stop(RejectionReason::kSchema,
                  "more than " + std::to_string(limits_.max_values) + " JSON values; not a TLS-RPT report");
    }
    if (!stack_.empty() && !stack_.back().object && ++stack_.back().elements > limits_.max_array_length) {
      return stop(RejectionReason::kSchema,
                  "an array of more than " + std::to_string(limits_.max_array_length) + " elements");
    }
    return true;
  }

  // The path of the value about to be read: parent.key, or parent[i] in an array.
  std::string child_path() const {
    const Frame& f = stack_.back();
    if (f.object) return path_of(f.path, f.key);
    return f.path + "[" + std::to_string(f.elements - 1) + "]";
  }

  bool open(bool object) {
    if (!count_value()) return false;
    if (stack_.size() + 1 > static_cast<std::size_t>(limits_.max_depth)) {
      return bad_json("JSON nested deeper than " + std::to_string(limits_.max_depth) + " levels");
    }
    const std::string kind = object ? "an object" : "an array";
    if (stack_.empty()) {
      if (!object) fail("the report is not a JSON object");
      stack_.push_back({object ? Ctx::kRoot : Ctx::kSkip, object, "", "", 0, 0});
      return true;
    }
    if (schema_) {
      stack_.push_back({Ctx::kSkip, object, "", "", 0, 0});
      return true;
    }
    Frame& parent = stack_.back();
    Ctx ctx = Ctx::kSkip;
    std::string_view expected;  // what a known member should have been, for the error
    switch (parent.ctx) {
      case Ctx::kRoot:
        if (parent.key == "date-range") {
          ctx = object ? Ctx::kDateRange : Ctx::kSkip, expected = "an object";
          if (object) parent.seen |= kDateRange;
        } else if (parent.key == "policies") {
          ctx = object ? Ctx::kSkip : Ctx::kPolicies, expected = "an array";
          if (!object) parent.seen |= kPolicies;
        } else if (parent.key == "organization-name" || parent.key == "report-id" || parent.key == "contact-info") {
          expected = "a string";
        }
        break;
      case Ctx::kDateRange:
        if (parent.key == "start-datetime" || parent.key == "end-datetime") expected = "a string";
        break;
      case Ctx::kPolicies:
        ctx = object ? Ctx::kPolicyItem : Ctx::kSkip, expected = "an object";
        break;
      case Ctx::kPolicyItem:
        if (parent.key == "policy" || parent.key == "summary") {
          ctx = !object ? Ctx::kSkip : parent.key == "policy" ? Ctx::kPolicy : Ctx::kSummary;
          expected = "an object";
          if (object) parent.seen |= parent.key == "policy" ? kPolicyObj : kSummaryObj;
        } else if (parent.key == "failure-details") {
          ctx = object ? Ctx::kSkip : Ctx::kDetails, expected = "an array";
        }
        break;
      case Ctx::kPolicy:
        if (parent.key == "policy-string" || parent.key == "mx-host") {
          ctx = object ? Ctx::kSkip : parent.key == "policy-string" ? Ctx::kPolicyStrings : Ctx::kMxHosts;
          expected = "an array of strings";
        } else if (parent.key == "policy-type" || parent.key == "policy-domain") {
          expected = "a string";
        }
        break;
      case Ctx::kPolicyStrings:
      case Ctx::kMxHosts:
        return fail_in(object, parent.path + " must contain only strings, found " + kind);
      case Ctx::kSummary:
        if (parent.key == "total-successful-session-count" || parent.key == "total-failure-session-count") {
          expected = "a non-negative integer";
        }
        break;
      case Ctx::kDetails:
        ctx = object ? Ctx::kDetail : Ctx::kSkip, expected = "an object";
        break;
      case Ctx::kDetail:
        if (parent.key == "failed-session-count") {
          expected = "a non-negative integer";
        } else if (is_detail_string(parent.key)) {
          expected = "a string";
        }
        break;
      case Ctx::kSkip:
        stack_.push_back({Ctx::kSkip, object, "", "", 0, 0});
        return true;
    }
    if (ctx == Ctx::kSkip && !expected.empty()) {
      return fail_in(object, child_path() + " must be " + std::string(expected) + ", got " + kind);
    }
    if (ctx == Ctx::kPolicyItem) {
      if (out_.policies.size() >= limits_.max_policies) {
        return stop(RejectionReason::kSchema, "more than " + std::to_string(limits_.max_policies) + " policies");
      }
      out_.policies.emplace_back();
    } else if (ctx == Ctx::kDetail) {
      if (++failure_details_seen_ > limits_.max_failure_details) {
        return stop(RejectionReason::kSchema,
                    "more than " + std::to_string(limits_.max_failure_details) + " failure-details");
      }
      out_.policies.back().failure_details.emplace_back();
    }
    stack_.push_back({ctx, object, ctx == Ctx::kSkip ? "" : child_path(), "", 0, 0});
    return true;
  }

  // A schema error at the start of a container: it is still read, as kSkip.
  bool fail_in(bool object, std::string message) {
    fail(std::move(message));
    stack_.push_back({Ctx::kSkip, object, "", "", 0, 0});
    return true;
  }

  static bool is_detail_string(std::string_view k) {
    return k == "result-type" || k == "sending-mta-ip" || k == "receiving-mx-hostname" || k == "receiving-mx-helo" ||
           k == "receiving-ip" || k == "additional-information" || k == "failure-reason-code" ||
           k == "failure-error-code";
  }

  // Absent and null are the same: empty. Present with another type is an error.
  bool read_string(const Scalar& v, std::string& out, unsigned bit = 0) {
    if (v.type == Scalar::Type::kNull) return true;
    if (v.type != Scalar::Type::kString) return fail(child_path() + " must be a string, got " + type_of(v));
    out = *v.s;
    stack_.back().seen |= bit;
    return true;
  }

  // A count is a JSON integer in [0, 2^64) and at most max_session_count. nlohmann gives
  // number_unsigned for those, a signed integer for negatives and a float for anything
  // fractional, exponent-written or too large.
  bool read_count(const Scalar& v, std::uint64_t& out, unsigned bit) {
    if (v.type == Scalar::Type::kNull) return true;
    if (v.type == Scalar::Type::kNegative && v.zero) {
      out = 0;
    } else if (v.type == Scalar::Type::kUnsigned) {
      out = v.u;
    } else {
      return fail(child_path() + " must be a non-negative integer below 2^64, got " + type_of(v));
    }
    if (out > limits_.max_session_count) {
      return fail(child_path() + " is " + std::to_string(out) + ", over the plausible maximum of " +
                  std::to_string(limits_.max_session_count) + " sessions");
    }
    stack_.back().seen |= bit;
    return true;
  }

  bool scalar(const Scalar& v) {
    if (!count_value()) return false;
    if (stack_.empty()) return fail("the report is not a JSON object");
    if (schema_) return true;
    Frame& f = stack_.back();
    const std::string& k = f.key;
    switch (f.ctx) {
      case Ctx::kSkip: return true;
      case Ctx::kRoot:
        if (k == "organization-name") return read_string(v, out_.organization_name, kOrganization);
        if (k == "report-id") return read_string(v, out_.report_id, kReportId);
        if (k == "contact-info") return read_string(v, out_.contact_info, kContact);
        if (k == "date-range" && v.type != Scalar::Type::kNull) {
          return fail("date-range must be an object, got " + type_of(v));
        }
        if (k == "policies" && v.type != Scalar::Type::kNull) {
          return fail("policies must be an array, got " + type_of(v));
        }
        return true;
      case Ctx::kDateRange:
        if (k == "start-datetime") return read_string(v, start_text_, kStart);
        if (k == "end-datetime") return read_string(v, end_text_, kEnd);
        return true;
      case Ctx::kPolicies:
      case Ctx::kDetails:
        return fail(child_path() + " must be an object, got " + type_of(v));
      case Ctx::kPolicyItem:
        if ((k == "policy" || k == "summary") && v.type != Scalar::Type::kNull) {
          return fail(child_path() + " must be an object, got " + type_of(v));
        }
        if (k == "failure-details" && v.type != Scalar::Type::kNull) {
          return fail(child_path() + " must be an array, got " + type_of(v));
        }
        return true;
      case Ctx::kPolicy: {
        PolicyResult& p = out_.policies.back();
        if (k == "policy-type") return read_string(v, p.policy_type, kPolicyType);
        if (k == "policy-domain") return read_string(v, p.policy_domain);
        if (k == "mx-host" && v.type == Scalar::Type::kString) {
          p.mx_hosts.push_back(*v.s);
          return true;
        }
        if ((k == "mx-host" || k == "policy-string") && v.type != Scalar::Type::kNull) {
          return fail(child_path() + " must be an array of strings, got " + type_of(v));
        }
        return true;
      }
      case Ctx::kPolicyStrings:
      case Ctx::kMxHosts: {
        if (v.type != Scalar::Type::kString) return fail(f.path + " must contain only strings, found " + type_of(v));
        PolicyResult& p = out_.policies.back();
        (f.ctx == Ctx::kMxHosts ? p.mx_hosts : p.policy_strings).push_back(*v.s);
        return true;
      }
      case Ctx::kSummary: {
        PolicyResult& p = out_.policies.back();
        if (k == "total-successful-session-count") return read_count(v, p.total_successful_session_count, kSuccessful);
        if (k == "total-failure-session-count") return read_count(v, p.total_failure_session_count, kFailed);
        return true;
      }
      case Ctx::kDetail: {
        FailureDetail& d = out_.policies.back().failure_details.back();
        if (k == "failed-session-count") return read_count(v, d.failed_session_count, kFailedCount);
        if (k == "result-type") return read_string(v, d.result_type, kResultType);
        if (k == "sending-mta-ip") return read_string(v, d.sending_mta_ip);
        if (k == "receiving-mx-hostname") return read_string(v, d.receiving_mx_hostname);
        if (k == "receiving-mx-helo") return read_string(v, d.receiving_mx_helo);
        if (k == "receiving-ip") return read_string(v, d.receiving_ip);
        if (k == "additional-information") return read_string(v, d.additional_information);
        if (k == "failure-reason-code") return read_string(v, d.failure_reason_code, kReasonCode);
        // The RFC's own example (Appendix B) names it failure-error-code; read at end_object.
        if (k == "failure-error-code") return read_string(v, error_code_);
        return true;
      }
    }
    return true;
  }

  // Required members of the object that ends, and what can only be judged once it is complete.
  // False after a schema error.
  bool close() {
    Frame f = std::move(stack_.back());
    stack_.pop_back();
    if (schema_) return true;
    const auto missing = [&](unsigned bit, std::string_view key) {
      if (f.seen & bit) return true;
      fail(path_of(f.path, key) + " is missing");
      return false;
    };
    switch (f.ctx) {
      case Ctx::kRoot:
        if (!missing(kOrganization, "organization-name") || !missing(kReportId, "report-id")) return false;
        if (out_.report_id.empty()) return fail("report-id is empty");
        if (!(f.seen & kContact)) warn(ReportDeviation::kMissingContactInfo, "contact-info is missing");
        return missing(kDateRange, "date-range") && missing(kPolicies, "policies");
      case Ctx::kDateRange:
        if (!date_time(f, kStart, "start-datetime", start_text_, out_.start) ||
            !date_time(f, kEnd, "end-datetime", end_text_, out_.end)) {
          return false;
        }
        if (out_.end < out_.start) warn(ReportDeviation::kEndBeforeStart, "date-range ends before it starts");
        return true;
      case Ctx::kPolicyItem:
        return missing(kPolicyObj, "policy") && missing(kSummaryObj, "summary");
      case Ctx::kPolicy: {
        if (!missing(kPolicyType, "policy-type")) return false;
        PolicyResult& p = out_.policies.back();
        p.policy_type_kind = policy_type_from(p.policy_type);
        if (p.policy_type_kind == PolicyType::kOther) {
          warn(ReportDeviation::kUnknownPolicyType, f.path + ".policy-type \"" + p.policy_type + "\" is unknown");
        }
        if (p.policy_type_kind == PolicyType::kTlsa) normalize_tlsa_strings(f.path, p.policy_strings);
        if (p.policy_domain.empty()) {
          warn(ReportDeviation::kMissingPolicyDomain, f.path + ".policy-domain is missing");
        }
        return true;
      }
      case Ctx::kSummary:
        return missing(kSuccessful, "total-successful-session-count") &&
               missing(kFailed, "total-failure-session-count");
      case Ctx::kDetail: {
        if (!missing(kResultType, "result-type") || !missing(kFailedCount, "failed-session-count")) return false;
        FailureDetail& d = out_.policies.back().failure_details.back();
        d.result_type_kind = result_type_from(d.result_type);
        if (d.result_type_kind == ResultType::kOther) {
          warn(ReportDeviation::kUnknownResultType,
               f.path + ".result-type \"" + d.result_type + "\" is not in the registry; counted as other");
        }
        if (d.failure_reason_code.empty() && !error_code_.empty()) {
          d.failure_reason_code = error_code_;
          warn(ReportDeviation::kFailureErrorCodeName, f.path + " uses failure-error-code for failure-reason-code");
        }
        error_code_.clear();
        return true;
      }
      default:
        return true;
    }
  }

  bool date_time(const Frame& f, unsigned bit, std::string_view key, const std::string& text,
                 std::chrono::system_clock::time_point& at) {
    if (!(f.seen & bit)) {
      fail("date-range." + std::string(key) + " is missing");
      return false;
    }
    const auto parsed = parse_rfc3339(text);
    if (!parsed) {
      fail("date-range." + std::string(key) + " \"" + text + "\" is not an RFC 3339 date-time");
      return false;
    }
    if (!parsed->had_zone) {
      warn(ReportDeviation::kDateTimeWithoutZone,
           "date-range." + std::string(key) + " \"" + text + "\" has no time zone; read as UTC");
    }
    at = parsed->at;
    return true;
  }

  // RFC 8460 §4.5: a TLSA policy-string is "u s m HEX" with no spaces inside the hex. Some
  // reporters split the hex into blocks; the record is still unambiguous, so join it and warn.
  void normalize_tlsa_strings(const std::string& path, std::vector<std::string>& strings) {
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
      warn(ReportDeviation::kTlsaPolicyStringSpaces,
           path + ".policy-string \"" + s + "\" has spaces inside the hex; read as \"" + joined + "\"");
      s = std::move(joined);
    }
  }

  const ReportParseLimits& limits_;
  TlsRptReport& out_;
  std::vector<Frame> stack_;
  std::optional<Rejection> schema_, stop_;
  std::size_t values_ = 0;
  std::size_t failure_details_seen_ = 0;
  std::string start_text_, end_text_, error_code_;
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
  if (text.size() > limits.max_json_bytes) {
    return Unexpected(Rejection{RejectionReason::kTooLarge, "report is " + std::to_string(text.size()) +
                                                                " bytes, over the limit of " +
                                                                std::to_string(limits.max_json_bytes)});
  }
  TlsRptReport report;
  ReportSax reader(limits, report);
  const bool parsed = json::sax_parse(text.begin(), text.end(), &reader);
  if (auto rejection = reader.rejection()) return Unexpected(std::move(*rejection));
  if (!parsed) return Unexpected(Rejection{RejectionReason::kBadJson, "not a complete JSON document"});
  return report;
}

}  // namespace mailtls::tlsrpt
