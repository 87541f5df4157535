#include "probes/mtasts/sts_txt_record.h"

#include <string>

namespace mailtls::mtasts {
namespace {

constexpr std::string_view kVersion = "v=STSv1";

bool is_wsp(char c) { return c == ' ' || c == '\t'; }
bool is_alpha(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }
bool is_digit(char c) { return c >= '0' && c <= '9'; }
bool is_alnum(char c) { return is_alpha(c) || is_digit(c); }

char lower(char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c; }

bool starts_with_nocase(std::string_view s, std::string_view prefix) {
  if (s.size() < prefix.size()) return false;
  for (std::size_t i = 0; i < prefix.size(); ++i) {
    if (lower(s[i]) != lower(prefix[i])) return false;
  }
  return true;
}

// A record an operator meant as an STS record, whatever its mistakes.
bool looks_like_sts(std::string_view s) { return starts_with_nocase(s, "v=sts"); }

// "v=STSv1" *WSP ";" with at least one WSP: valid by the ABNF, discarded by the §3.1 prose.
bool has_space_before_first_semicolon(std::string_view s) {
  if (!s.starts_with(kVersion)) return false;
  std::size_t i = kVersion.size();
  std::size_t spaces = 0;
  while (i < s.size() && is_wsp(s[i])) {
    ++i;
    ++spaces;
  }
  return spaces > 0 && i < s.size() && s[i] == ';';
}

bool valid_id(std::string_view v) {
  if (v.empty() || v.size() > 32) return false;
  for (char c : v) {
    if (!is_alnum(c)) return false;
  }
  return true;
}

bool valid_ext_name(std::string_view n) {
  if (n.empty() || n.size() > 32 || !is_alnum(n[0])) return false;
  for (char c : n) {
    if (!is_alnum(c) && c != '_' && c != '-' && c != '.') return false;
  }
  return true;
}

bool valid_ext_value(std::string_view v) {
  if (v.empty()) return false;
  for (char c : v) {
    const auto u = static_cast<unsigned char>(c);
    if (u < 0x21 || u > 0x7e || c == ';' || c == '=') return false;
  }
  return true;
}

StsTxtResult fail(StsTxtResult r, StsTxtError e, std::string message) {
  r.error = e;
  r.message = std::move(message);
  r.record = {};
  return r;
}

}  // namespace

std::string_view error_label(StsTxtError e) {
  switch (e) {
    case StsTxtError::kNone: return "none";
    case StsTxtError::kNoRecord: return "no_record";
    case StsTxtError::kMultipleRecords: return "multiple_records";
    case StsTxtError::kNotAscii: return "not_ascii";
    case StsTxtError::kBadVersion: return "bad_version";
    case StsTxtError::kSyntax: return "syntax";
    case StsTxtError::kMissingId: return "missing_id";
    case StsTxtError::kBadId: return "bad_id";
    case StsTxtError::kBadExtension: return "bad_extension";
  }
  return "unknown";
}

StsTxtResult parse_sts_txt_record(std::string_view text) {
  StsTxtResult r;
  r.text = std::string(text);
  r.sts_records = 1;
  for (char c : text) {
    const auto u = static_cast<unsigned char>(c);
    if ((u < 0x20 && c != '\t') || u > 0x7e) {
      return fail(std::move(r), StsTxtError::kNotAscii,
                  "the record contains bytes that are not printable US-ASCII");
    }
  }
  if (!text.starts_with(kVersion) ||
      (text.size() > kVersion.size() && !is_wsp(text[kVersion.size()]) &&
       text[kVersion.size()] != ';')) {
    const bool wrong_case = starts_with_nocase(text, kVersion);
    return fail(std::move(r), StsTxtError::kBadVersion,
                wrong_case ? "the version must be exactly \"v=STSv1\" (case-sensitive)"
                           : "the record does not begin with \"v=STSv1\"");
  }

  std::size_t pos = kVersion.size();
  bool have_id = false;
  bool first_delimiter = true;
  while (true) {
    // sts-field-delim = *WSP ";" *WSP, or the end of the record.
    std::size_t spaces = 0;
    while (pos < text.size() && is_wsp(text[pos])) {
      ++pos;
      ++spaces;
    }
    if (pos == text.size()) {
      if (spaces > 0) {
        r.warnings.push_back(
            "trailing whitespace after the last field (not allowed by the RFC 8461 grammar)");
      }
      break;
    }
    if (text[pos] != ';') {
      return fail(std::move(r), StsTxtError::kSyntax,
                  "expected ';' between fields at offset " + std::to_string(pos));
    }
    if (first_delimiter && spaces > 0) {
      r.warnings.push_back(
          "whitespace between \"v=STSv1\" and ';': senders that require the record to begin with "
          "\"v=STSv1;\" (RFC 8461 §3.1, erratum 6285) discard it when several TXT records exist");
    }
    first_delimiter = false;
    ++pos;
    while (pos < text.size() && is_wsp(text[pos])) ++pos;
    if (pos == text.size()) break;  // a trailing delimiter is allowed

    // sts-field: name "=" value.
    const std::size_t name_start = pos;
    while (pos < text.size() && text[pos] != '=' && text[pos] != ';' && !is_wsp(text[pos])) ++pos;
    const std::string_view name = text.substr(name_start, pos - name_start);
    if (pos == text.size() || text[pos] != '=') {
      return fail(std::move(r), StsTxtError::kSyntax,
                  "field \"" + std::string(name) + "\" is not of the form name=value");
    }
    ++pos;
    const std::size_t value_start = pos;
    while (pos < text.size() && text[pos] != ';' && !is_wsp(text[pos])) ++pos;
    const std::string_view value = text.substr(value_start, pos - value_start);

    if (name == "id") {
      if (!valid_id(value)) {
        return fail(std::move(r), StsTxtError::kBadId,
                    "id \"" + std::string(value) + "\" is not 1 to 32 letters or digits");
      }
      if (have_id) {
        r.warnings.push_back("duplicate id field: the first one (" + r.record.id + ") counts");
      } else {
        r.record.id = std::string(value);
        have_id = true;
      }
      continue;
    }
    if (!valid_ext_name(name)) {
      return fail(std::move(r), StsTxtError::kBadExtension,
                  "\"" + std::string(name) + "\" is not a valid field name");
    }
    if (!valid_ext_value(value)) {
      return fail(std::move(r), StsTxtError::kBadExtension,
                  "field \"" + std::string(name) + "\" has an empty or invalid value");
    }
    bool duplicate = false;
    for (const auto& [n, v] : r.record.extensions) duplicate = duplicate || n == name;
    if (duplicate) {
      r.warnings.push_back("duplicate field \"" + std::string(name) + "\": the first one counts");
    } else {
      r.record.extensions.emplace_back(std::string(name), std::string(value));
    }
  }
  if (!have_id) {
    return fail(std::move(r), StsTxtError::kMissingId, "the record has no id field (required)");
  }
  return r;
}

StsTxtResult select_sts_txt_record(const std::vector<std::string>& txt_records) {
  if (txt_records.empty()) {
    StsTxtResult r;
    r.error = StsTxtError::kNoRecord;
    r.message = "no TXT record at _mta-sts";
    return r;
  }
  if (txt_records.size() == 1) {
    if (!looks_like_sts(txt_records[0])) {
      StsTxtResult r;
      r.error = StsTxtError::kNoRecord;
      r.message = "the TXT record at _mta-sts is not an STS record";
      r.discarded = 1;
      return r;
    }
    return parse_sts_txt_record(txt_records[0]);
  }

  // Several records: keep those that begin with exactly "v=STSv1;" (§3.1).
  std::vector<const std::string*> kept;
  std::vector<const std::string*> discarded_sts_like;
  std::vector<std::string> warnings;
  for (const auto& t : txt_records) {
    if (t.starts_with("v=STSv1;")) {
      kept.push_back(&t);
      continue;
    }
    if (looks_like_sts(t)) {
      discarded_sts_like.push_back(&t);
      warnings.push_back(
          has_space_before_first_semicolon(t)
              ? "record \"" + t +
                    "\" is discarded: with several TXT records only those beginning with "
                    "\"v=STSv1;\" count (whitespace before ';', erratum 6285)"
              : "record \"" + t + "\" is discarded: it does not begin with \"v=STSv1;\"");
    }
  }
  const int discarded = static_cast<int>(txt_records.size() - kept.size());
  StsTxtResult r;
  if (kept.size() == 1) {
    r = parse_sts_txt_record(*kept[0]);
  } else if (kept.size() > 1) {
    r.error = StsTxtError::kMultipleRecords;
    r.message = std::to_string(kept.size()) +
                " STS records: senders ignore MTA-STS when more than one record remains";
  } else if (discarded_sts_like.empty()) {
    r.error = StsTxtError::kNoRecord;
    r.message = "none of the TXT records at _mta-sts is an STS record";
  } else {
    // The operator published a policy record, but senders discard it: a silent downgrade.
    StsTxtResult why = parse_sts_txt_record(*discarded_sts_like[0]);
    r.error = why.valid() ? StsTxtError::kSyntax : why.error;
    r.message = why.valid() ? "the only STS-like record does not begin with \"v=STSv1;\" and is "
                              "discarded among several TXT records"
                            : why.message;
    r.text = *discarded_sts_like[0];
  }
  r.sts_records = static_cast<int>(kept.size());
  r.discarded = discarded;
  r.warnings.insert(r.warnings.begin(), warnings.begin(), warnings.end());
  return r;
}

}  // namespace mailtls::mtasts
