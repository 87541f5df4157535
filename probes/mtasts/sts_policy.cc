#include "probes/mtasts/sts_policy.h"

#include <map>
#include <string>

namespace mailtls::mtasts {
namespace {

bool is_wsp(char c) { return c == ' ' || c == '\t'; }
bool is_alpha(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }
bool is_digit(char c) { return c >= '0' && c <= '9'; }
bool is_alnum(char c) { return is_alpha(c) || is_digit(c); }

bool valid_key(std::string_view k) {
  if (k.empty() || k.size() > 32 || !is_alnum(k[0])) return false;
  for (char c : k) {
    if (!is_alnum(c) && c != '_' && c != '-' && c != '.') return false;
  }
  return true;
}

// RFC 5321 Domain: sub-domain *("." sub-domain), sub-domain = Let-dig [Ldh-str]; plus the DNS
// length limits (63 per label, 253 in all).
bool valid_domain(std::string_view d) {
  if (d.empty() || d.size() > 253) return false;
  std::size_t start = 0;
  while (true) {
    const std::size_t dot = d.find('.', start);
    const std::string_view label =
        d.substr(start, dot == std::string_view::npos ? std::string_view::npos : dot - start);
    if (label.empty() || label.size() > 63 || !is_alnum(label.front()) ||
        !is_alnum(label.back())) {
      return false;
    }
    for (char c : label) {
      if (!is_alnum(c) && c != '-') return false;
    }
    if (dot == std::string_view::npos) return true;
    start = dot + 1;
  }
}

bool has_non_ascii(std::string_view s) {
  for (char c : s) {
    if (static_cast<unsigned char>(c) > 0x7f) return true;
  }
  return false;
}

StsPolicyResult fail(StsPolicyResult r, StsPolicyError e, std::string message) {
  r.error = e;
  r.message = std::move(message);
  r.policy.reset();
  return r;
}

std::string line_ref(int n) { return "line " + std::to_string(n) + ": "; }

}  // namespace

std::string_view to_string(StsMode m) {
  switch (m) {
    case StsMode::kEnforce: return "enforce";
    case StsMode::kTesting: return "testing";
    case StsMode::kNone: return "none";
  }
  return "none";
}

std::string_view error_label(StsPolicyError e) {
  switch (e) {
    case StsPolicyError::kNone: return "none";
    case StsPolicyError::kEmpty: return "empty";
    case StsPolicyError::kByteOrderMark: return "byte_order_mark";
    case StsPolicyError::kBadLine: return "bad_line";
    case StsPolicyError::kMissingVersion: return "missing_version";
    case StsPolicyError::kBadVersion: return "bad_version";
    case StsPolicyError::kMissingMode: return "missing_mode";
    case StsPolicyError::kBadMode: return "bad_mode";
    case StsPolicyError::kMissingMaxAge: return "missing_max_age";
    case StsPolicyError::kBadMaxAge: return "bad_max_age";
    case StsPolicyError::kMissingMx: return "missing_mx";
    case StsPolicyError::kBadMx: return "bad_mx";
  }
  return "unknown";
}

StsPolicyResult parse_sts_policy(std::string_view body) {
  StsPolicyResult r;
  if (body.starts_with("\xEF\xBB\xBF")) {
    return fail(std::move(r), StsPolicyError::kByteOrderMark,
                "the policy begins with a UTF-8 byte order mark: the first key is not a valid "
                "key for senders");
  }
  if (body.find_first_not_of(" \t\r\n") == std::string_view::npos) {
    return fail(std::move(r), StsPolicyError::kEmpty, "the policy is empty");
  }

  std::map<std::string, std::string, std::less<>> first_value;  // non-mx keys: first wins
  std::vector<std::string> mx;
  int line_no = 0;
  std::size_t pos = 0;
  while (pos < body.size()) {
    const std::size_t lf = body.find('\n', pos);
    std::string_view line =
        body.substr(pos, lf == std::string_view::npos ? std::string_view::npos : lf - pos);
    pos = lf == std::string_view::npos ? body.size() : lf + 1;
    ++line_no;
    if (line.ends_with('\r')) line.remove_suffix(1);
    while (!line.empty() && is_wsp(line.back())) line.remove_suffix(1);
    if (line.empty()) {
      if (pos < body.size()) {
        r.warnings.push_back(line_ref(line_no) + "blank line (not allowed by the grammar)");
      }
      continue;
    }
    for (char c : line) {
      const auto u = static_cast<unsigned char>(c);
      if ((u < 0x20 && c != '\t') || u == 0x7f) {
        return fail(std::move(r), StsPolicyError::kBadLine,
                    line_ref(line_no) + "control character in the line");
      }
    }
    const std::size_t colon = line.find(':');
    if (colon == std::string_view::npos) {
      return fail(std::move(r), StsPolicyError::kBadLine,
                  line_ref(line_no) + "not of the form \"key: value\"");
    }
    const std::string_view key = line.substr(0, colon);
    if (!valid_key(key)) {
      return fail(std::move(r), StsPolicyError::kBadLine,
                  line_ref(line_no) + "\"" + std::string(key) + "\" is not a valid key");
    }
    std::string_view value = line.substr(colon + 1);
    while (!value.empty() && is_wsp(value.front())) value.remove_prefix(1);

    if (key == "mx") {
      std::string pattern(value);
      if (pattern.ends_with('.')) {
        pattern.pop_back();
        r.warnings.push_back(line_ref(line_no) + "mx \"" + std::string(value) +
                             "\" ends with a dot: not allowed by the grammar, senders differ");
      }
      const std::string_view domain =
          std::string_view(pattern).starts_with("*.") ? std::string_view(pattern).substr(2)
                                                      : std::string_view(pattern);
      if (!valid_domain(domain)) {
        return fail(std::move(r), StsPolicyError::kBadMx,
                    line_ref(line_no) + "mx \"" + std::string(value) + "\" is not a valid pattern" +
                        (has_non_ascii(value) ? " (use the A-label form, xn--...)" : ""));
      }
      mx.push_back(std::move(pattern));
      continue;
    }
    if (first_value.contains(key)) {
      r.warnings.push_back(line_ref(line_no) + "duplicate key \"" + std::string(key) +
                           "\": the first one counts");
      continue;
    }
    first_value.emplace(std::string(key), std::string(value));
  }

  StsPolicy policy;
  auto version = first_value.find("version");
  if (version == first_value.end()) {
    return fail(std::move(r), StsPolicyError::kMissingVersion, "no version field");
  }
  if (version->second != "STSv1") {
    return fail(std::move(r), StsPolicyError::kBadVersion,
                "version \"" + version->second + "\" is not \"STSv1\"");
  }
  auto mode = first_value.find("mode");
  if (mode == first_value.end()) {
    return fail(std::move(r), StsPolicyError::kMissingMode, "no mode field");
  }
  if (mode->second == "enforce") {
    policy.mode = StsMode::kEnforce;
  } else if (mode->second == "testing") {
    policy.mode = StsMode::kTesting;
  } else if (mode->second == "none") {
    policy.mode = StsMode::kNone;
  } else {
    return fail(std::move(r), StsPolicyError::kBadMode,
                "mode \"" + mode->second +
                    "\" is not one of enforce, testing, none (case-sensitive)");
  }
  auto max_age = first_value.find("max_age");
  if (max_age == first_value.end()) {
    return fail(std::move(r), StsPolicyError::kMissingMaxAge, "no max_age field");
  }
  const std::string& age = max_age->second;
  bool digits = !age.empty() && age.size() <= 10;
  for (char c : age) digits = digits && is_digit(c);
  if (!digits) {
    return fail(std::move(r), StsPolicyError::kBadMaxAge,
                "max_age \"" + age + "\" is not 1 to 10 digits");
  }
  policy.max_age_seconds = std::stoll(age);
  if (policy.max_age_seconds > kMaxStsMaxAgeSeconds) {
    return fail(std::move(r), StsPolicyError::kBadMaxAge,
                "max_age " + age + " is over the maximum of 31557600");
  }
  if (mx.empty() && policy.mode != StsMode::kNone) {
    return fail(std::move(r), StsPolicyError::kMissingMx,
                "no mx field: required unless the mode is none");
  }
  if (!mx.empty() && policy.mode == StsMode::kNone) {
    r.warnings.push_back("mx patterns in mode none have no effect");
  }
  if (policy.mode == StsMode::kEnforce && policy.max_age_seconds < kMinRecommendedMaxAgeSeconds) {
    r.warnings.push_back("max_age " + age +
                         " is under one day in enforce mode: senders refetch often, which "
                         "helps an attacker who can block the fetch (RFC 8461 §10.2)");
  }
  policy.mx = std::move(mx);
  r.policy = std::move(policy);
  return r;
}

}  // namespace mailtls::mtasts
