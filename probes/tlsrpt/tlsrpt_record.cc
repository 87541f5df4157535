#include "probes/tlsrpt/tlsrpt_record.h"

#include <cctype>

#include "probes/base/hex.h"

namespace mailtls::tlsrpt {
namespace {

constexpr std::string_view kVersion = "v=TLSRPTv1";

bool is_wsp(char c) { return c == ' ' || c == '\t'; }
bool is_alpha(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }
bool is_digit(char c) { return c >= '0' && c <= '9'; }
bool is_hex(char c) { return hex_digit_value(c) >= 0; }

std::string_view trim_wsp(std::string_view s) {
  while (!s.empty() && is_wsp(s.front())) s.remove_prefix(1);
  while (!s.empty() && is_wsp(s.back())) s.remove_suffix(1);
  return s;
}

std::string lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

// The record begins with the version tag followed by a field delimiter or the end (§3).
bool begins_with_version(std::string_view txt) {
  if (!txt.starts_with(kVersion)) return false;
  std::string_view rest = txt.substr(kVersion.size());
  return rest.empty() || rest.front() == ';' || is_wsp(rest.front());
}

TlsRptRecordResult fail(TlsRptRecordError e, std::string message) {
  TlsRptRecordResult r;
  r.error = e;
  r.message = std::move(message);
  return r;
}

// tlsrpt-ext-name = (ALPHA / DIGIT) *31(ALPHA / DIGIT / "_" / "-" / ".")
bool valid_ext_name(std::string_view name) {
  if (name.empty() || name.size() > 32) return false;
  if (!is_alpha(name.front()) && !is_digit(name.front())) return false;
  for (char c : name) {
    if (!is_alpha(c) && !is_digit(c) && c != '_' && c != '-' && c != '.') return false;
  }
  return true;
}

// RFC 3986 characters that may appear literally in a URI, minus '!' and ';' which RFC 8460 §3
// requires to be percent-encoded (',' never reaches here: it separates URIs).
bool uri_char_allowed(char c) {
  if (is_alpha(c) || is_digit(c)) return true;
  switch (c) {
    case '-': case '.': case '_': case '~':                        // unreserved
    case ':': case '/': case '?': case '#': case '[': case ']': case '@':  // gen-delims
    case '$': case '&': case '\'': case '(': case ')': case '*': case '+': case '=':  // sub-delims
    case '%':
      return true;
    default:
      return false;
  }
}

TlsRptRecordResult check_uri(std::string_view uri) {
  if (uri.empty()) return fail(TlsRptRecordError::kBadUri, "empty URI in rua");
  const std::string shown(uri);
  const auto colon = uri.find(':');
  if (colon == std::string_view::npos || colon == 0) {
    return fail(TlsRptRecordError::kUnsupportedScheme,
                "rua URI \"" + shown + "\" has no scheme (mailto: or https: required)");
  }
  const std::string scheme = lower(uri.substr(0, colon));
  if (scheme != "mailto" && scheme != "https") {
    return fail(TlsRptRecordError::kUnsupportedScheme,
                "rua URI \"" + shown + "\" uses scheme \"" + scheme + "\"; only mailto: and https: are allowed");
  }
  for (std::size_t i = 0; i < uri.size(); ++i) {
    const char c = uri[i];
    if (c == '!' || c == ';') {
      return fail(TlsRptRecordError::kUnencodedReservedChar,
                  "rua URI \"" + shown + "\" contains an unencoded '" + std::string(1, c) +
                      "' (it must be percent-encoded; DMARC-style size suffixes are not allowed)");
    }
    if (!uri_char_allowed(c)) {
      return fail(TlsRptRecordError::kBadUri, "rua URI \"" + shown + "\" contains a character not allowed in a URI");
    }
    if (c == '%' && (i + 2 >= uri.size() || !is_hex(uri[i + 1]) || !is_hex(uri[i + 2]))) {
      return fail(TlsRptRecordError::kBadUri, "rua URI \"" + shown + "\" has a bad percent-encoding");
    }
  }
  std::string_view rest = uri.substr(colon + 1);
  if (scheme == "mailto") {
    const std::string_view addr = rest.substr(0, rest.find('?'));
    const auto at = addr.find('@');
    if (at == std::string_view::npos || at == 0 || at + 1 == addr.size()) {
      return fail(TlsRptRecordError::kBadUri, "rua URI \"" + shown + "\" is not a mailto: address");
    }
  } else {
    if (!rest.starts_with("//")) {
      return fail(TlsRptRecordError::kBadUri, "rua URI \"" + shown + "\" has no authority (https://host/...)");
    }
    rest.remove_prefix(2);
    const std::string_view host = rest.substr(0, rest.find_first_of("/?#"));
    if (host.empty()) return fail(TlsRptRecordError::kBadUri, "rua URI \"" + shown + "\" has no host");
  }
  return {};
}

// tlsrpt-rua = %s"rua=" tlsrpt-uri *(*WSP "," *WSP tlsrpt-uri)
TlsRptRecordResult parse_rua(std::string_view value, TlsRptRecord& record) {
  while (true) {
    const auto comma = value.find(',');
    const std::string_view uri = trim_wsp(value.substr(0, comma));
    TlsRptRecordResult checked = check_uri(uri);
    if (!checked.valid()) return checked;
    record.rua.emplace_back(uri);
    if (comma == std::string_view::npos) break;
    value.remove_prefix(comma + 1);
  }
  return {};
}

}  // namespace

std::string_view error_label(TlsRptRecordError e) {
  switch (e) {
    case TlsRptRecordError::kNone: return "none";
    case TlsRptRecordError::kNoRecord: return "no_record";
    case TlsRptRecordError::kMultipleRecords: return "multiple_records";
    case TlsRptRecordError::kSyntax: return "syntax";
    case TlsRptRecordError::kMissingRua: return "missing_rua";
    case TlsRptRecordError::kDuplicateRua: return "duplicate_rua";
    case TlsRptRecordError::kUnsupportedScheme: return "unsupported_scheme";
    case TlsRptRecordError::kUnencodedReservedChar: return "unencoded_reserved_char";
    case TlsRptRecordError::kBadUri: return "bad_uri";
  }
  return "unknown";
}

TlsRptRecordResult parse_tlsrpt_record(std::string_view txt) {
  if (!begins_with_version(txt)) {
    return fail(TlsRptRecordError::kNoRecord, "record does not begin with v=TLSRPTv1");
  }
  TlsRptRecordResult result;
  bool have_rua = false;
  std::string_view rest = txt.substr(kVersion.size());
  while (true) {
    // field-delim = *WSP ";" *WSP, and one trailing delimiter is allowed.
    rest = trim_wsp(rest);
    if (rest.empty()) break;
    if (rest.front() != ';') {
      return fail(TlsRptRecordError::kSyntax, "expected ';' between fields in \"" + std::string(txt) + "\"");
    }
    rest.remove_prefix(1);
    while (!rest.empty() && is_wsp(rest.front())) rest.remove_prefix(1);
    if (rest.empty()) break;
    const auto end = rest.find(';');
    std::string_view field = rest.substr(0, end);
    rest = end == std::string_view::npos ? std::string_view{} : rest.substr(end);
    // Trailing WSP belongs to the next delimiter, except when the record ends here.
    while (!field.empty() && is_wsp(field.back())) field.remove_suffix(1);
    const auto eq = field.find('=');
    if (eq == std::string_view::npos) {
      return fail(TlsRptRecordError::kSyntax, "field \"" + std::string(field) + "\" has no '='");
    }
    const std::string_view name = field.substr(0, eq);
    const std::string_view value = field.substr(eq + 1);
    if (name == "rua") {
      if (have_rua) return fail(TlsRptRecordError::kDuplicateRua, "the record has more than one rua field");
      have_rua = true;
      TlsRptRecordResult parsed = parse_rua(value, result.record);
      if (!parsed.valid()) return parsed;
    } else if (!valid_ext_name(name) || value.empty()) {
      return fail(TlsRptRecordError::kSyntax, "field \"" + std::string(field) + "\" is not name=value");
    }
    // Unknown (extension) fields are ignored, as §3 requires.
  }
  if (!have_rua) return fail(TlsRptRecordError::kMissingRua, "the record has no rua field");
  return result;
}

TlsRptRecordResult parse_tlsrpt_rrset(const std::vector<std::string>& txt_records) {
  int discarded = 0;
  const std::string* candidate = nullptr;
  int candidates = 0;
  for (const std::string& txt : txt_records) {
    if (begins_with_version(txt)) {
      ++candidates;
      candidate = &txt;
    } else {
      ++discarded;
    }
  }
  TlsRptRecordResult result;
  if (candidates == 0) {
    result = fail(TlsRptRecordError::kNoRecord, "no TXT record begins with v=TLSRPTv1");
  } else if (candidates > 1) {
    result = fail(TlsRptRecordError::kMultipleRecords,
                  std::to_string(candidates) + " TXT records begin with v=TLSRPTv1; exactly one is allowed");
  } else {
    result = parse_tlsrpt_record(*candidate);
  }
  result.discarded = discarded;
  return result;
}

}  // namespace mailtls::tlsrpt
