#include "probes/tlsrpt/mail_report_extractor.h"

#include <algorithm>
#include <cctype>
#include <cstdint>
#include <utility>
#include <vector>

#include "probes/tlsrpt/gzip_decoder.h"

namespace mailtls::tlsrpt {
namespace {

std::string lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

bool is_wsp(char c) { return c == ' ' || c == '\t'; }

std::string_view trim(std::string_view s) {
  while (!s.empty() && (is_wsp(s.front()) || s.front() == '\r' || s.front() == '\n')) s.remove_prefix(1);
  while (!s.empty() && (is_wsp(s.back()) || s.back() == '\r' || s.back() == '\n')) s.remove_suffix(1);
  return s;
}

struct Header {
  std::string name;  // lower case
  std::string value; // unfolded, trimmed
};

struct ContentType {
  std::string media_type = "text/plain";  // lower case; RFC 2045 §5.2 default
  std::vector<std::pair<std::string, std::string>> params;  // names lower case
  std::string param(std::string_view name) const {
    for (const auto& [n, v] : params) {
      if (n == name) return v;
    }
    return {};
  }
};

struct Entity {
  std::vector<Header> headers;
  std::string_view body;
  std::string header(std::string_view name) const {
    for (const Header& h : headers) {
      if (h.name == name) return h.value;
    }
    return {};
  }
  bool has_header(std::string_view name) const {
    for (const Header& h : headers) {
      if (h.name == name) return true;
    }
    return false;
  }
};

// Parameters after the media type: ; name=token or ; name="quoted \"string\"".
void parse_params(std::string_view s, std::vector<std::pair<std::string, std::string>>& out) {
  while (!s.empty()) {
    const auto semi = s.find(';');
    if (semi == std::string_view::npos) return;
    s.remove_prefix(semi + 1);
    while (!s.empty() && (is_wsp(s.front()) || s.front() == '\r' || s.front() == '\n')) s.remove_prefix(1);
    const auto eq = s.find('=');
    if (eq == std::string_view::npos) return;
    std::string name = lower(trim(s.substr(0, eq)));
    s.remove_prefix(eq + 1);
    while (!s.empty() && is_wsp(s.front())) s.remove_prefix(1);
    std::string value;
    if (!s.empty() && s.front() == '"') {
      std::size_t i = 1;
      for (; i < s.size() && s[i] != '"'; ++i) {
        if (s[i] == '\\' && i + 1 < s.size()) ++i;
        value.push_back(s[i]);
      }
      s.remove_prefix(std::min(i + 1, s.size()));
    } else {
      const auto end = s.find(';');
      value = std::string(trim(s.substr(0, end)));
      s.remove_prefix(end == std::string_view::npos ? s.size() : end);
    }
    out.emplace_back(std::move(name), std::move(value));
  }
}

ContentType parse_content_type(std::string_view value) {
  ContentType ct;
  if (trim(value).empty()) return ct;
  const auto semi = value.find(';');
  ct.media_type = lower(trim(value.substr(0, semi)));
  if (semi != std::string_view::npos) parse_params(value.substr(semi), ct.params);
  return ct;
}

class MimeWalker {
 public:
  explicit MimeWalker(const MailLimits& limits) : limits_(limits) {}

  std::optional<Rejection> error() const { return error_; }

  // Splits header block and body. An entity may start with the empty line (no headers).
  std::optional<Entity> parse_entity(std::string_view text, bool top_level) {
    Entity e;
    std::size_t pos = 0;
    bool first_line = true;
    while (true) {
      if (pos >= text.size()) {
        // No empty line: a part with headers only is legal; a message must have a body split.
        if (top_level) return fail("the message has no empty line between header and body");
        e.body = {};
        return e;
      }
      if (pos > limits_.max_header_bytes) return fail("header block larger than the limit");
      const auto nl = text.find('\n', pos);
      const std::size_t line_end = nl == std::string_view::npos ? text.size() : nl;
      std::string_view line = text.substr(pos, line_end - pos);
      if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
      const std::size_t next = nl == std::string_view::npos ? text.size() : nl + 1;
      if (line.empty()) {
        e.body = text.substr(next);
        return e;
      }
      if (is_wsp(line.front())) {
        if (e.headers.empty()) return fail("header continuation line with no header before it");
        e.headers.back().value += ' ';
        e.headers.back().value += trim(line);
      } else if (top_level && first_line && line.starts_with("From ")) {
        // An mbox "From " separator line: not a header.
      } else {
        const auto colon = line.find(':');
        if (colon == std::string_view::npos || colon == 0) return fail("malformed header line (no name: value)");
        for (char c : line.substr(0, colon)) {
          if (static_cast<unsigned char>(c) < 33 || static_cast<unsigned char>(c) > 126) {
            return fail("malformed header name");
          }
        }
        e.headers.push_back({lower(line.substr(0, colon)), std::string(trim(line.substr(colon + 1)))});
      }
      first_line = false;
      pos = next;
    }
  }

  // The body parts between "--boundary" lines, up to the closing "--boundary--".
  std::optional<std::vector<std::string_view>> split_multipart(std::string_view body, const std::string& boundary) {
    if (boundary.empty() || boundary.size() > 70) {
      fail("multipart without a valid boundary parameter");
      return std::nullopt;
    }
    const std::string delimiter = "--" + boundary;
    std::vector<std::string_view> parts;
    std::size_t search = 0;
    std::size_t part_start = std::string_view::npos;
    while (true) {
      const auto at = body.find(delimiter, search);
      if (at == std::string_view::npos) {
        fail(parts.empty() && part_start == std::string_view::npos
                 ? "no boundary delimiter found in the multipart body"
                 : "multipart body ends without its closing boundary (truncated)");
        return std::nullopt;
      }
      search = at + delimiter.size();
      if (at != 0 && body[at - 1] != '\n') continue;  // must begin a line
      std::string_view rest = body.substr(search);
      const bool closing = rest.starts_with("--");
      if (closing) rest.remove_prefix(2);
      const auto nl = rest.find('\n');
      if (!trim(rest.substr(0, nl)).empty()) continue;  // "--boundaryX" is not our delimiter
      if (part_start != std::string_view::npos) {
        // The line break before the delimiter belongs to the delimiter (RFC 2046 §5.1.1).
        std::size_t end = at;
        if (end > part_start && body[end - 1] == '\n') --end;
        if (end > part_start && body[end - 1] == '\r') --end;
        if (++parts_seen_ > limits_.max_parts) {
          fail("more than " + std::to_string(limits_.max_parts) + " MIME parts");
          return std::nullopt;
        }
        parts.push_back(body.substr(part_start, end - part_start));
      }
      if (closing) return parts;
      if (nl == std::string_view::npos) {
        fail("multipart body ends without its closing boundary (truncated)");
        return std::nullopt;
      }
      part_start = search + nl + 1;
    }
  }

  // A candidate report part, ranked: 2 = declared application/tlsrpt+*, 1 = found by a lenient
  // rule (application/json, application/gzip, a .json/.json.gz/.gz file name).
  struct Candidate {
    int rank = 0;
    Entity entity;
    ContentType type;
    std::string filename;
  };

  bool walk(std::string_view text, int depth, bool top_level, Candidate& best, ContentType* top_type) {
    std::optional<Entity> e = parse_entity(text, top_level);
    if (!e) return false;
    const ContentType type = parse_content_type(e->header("content-type"));
    if (top_type != nullptr) *top_type = type;
    if (top_level) top_ = *e;
    if (type.media_type.starts_with("multipart/")) {
      if (depth >= limits_.max_depth) {
        fail("multipart nested deeper than the limit");
        return false;
      }
      const auto parts = split_multipart(e->body, type.param("boundary"));
      if (!parts) return false;
      for (std::string_view part : *parts) {
        if (!walk(part, depth + 1, false, best, nullptr)) return false;
      }
      return true;
    }
    std::string filename = parse_content_type("x/x" + disposition_params(*e)).param("filename");
    if (filename.empty()) filename = type.param("name");
    const int rank = rank_of(type.media_type, filename);
    if (rank > best.rank) best = Candidate{rank, *e, type, filename};
    return true;
  }

  const Entity& top() const { return top_; }

 private:
  static std::string disposition_params(const Entity& e) {
    const std::string d = e.header("content-disposition");
    const auto semi = d.find(';');
    return semi == std::string::npos ? std::string() : d.substr(semi);
  }

  static int rank_of(const std::string& media_type, const std::string& filename) {
    if (media_type == "application/tlsrpt+json" || media_type == "application/tlsrpt+gzip") return 2;
    if (media_type == "application/json" || media_type == "application/gzip" ||
        media_type == "application/x-gzip") {
      return 1;
    }
    const std::string name = lower(filename);
    if (name.ends_with(".json") || name.ends_with(".json.gz") || name.ends_with(".gz")) return 1;
    return 0;
  }

  std::optional<Entity> fail(std::string message) {
    if (!error_) error_ = Rejection{RejectionReason::kMime, std::move(message)};
    return std::nullopt;
  }

  const MailLimits& limits_;
  std::size_t parts_seen_ = 0;
  std::optional<Rejection> error_;
  Entity top_;
};

std::optional<std::string> decode_transfer(const Entity& e, std::string& why) {
  const std::string cte = lower(trim(e.header("content-transfer-encoding")));
  if (cte.empty() || cte == "7bit" || cte == "8bit" || cte == "binary") return std::string(e.body);
  if (cte == "base64") {
    auto decoded = decode_base64(e.body);
    if (!decoded) why = "base64 body is not valid base64";
    return decoded;
  }
  if (cte == "quoted-printable") return decode_quoted_printable(e.body);
  why = "unknown Content-Transfer-Encoding \"" + cte + "\"";
  return std::nullopt;
}

int base64_value(char c) {
  if (c >= 'A' && c <= 'Z') return c - 'A';
  if (c >= 'a' && c <= 'z') return c - 'a' + 26;
  if (c >= '0' && c <= '9') return c - '0' + 52;
  if (c == '+') return 62;
  if (c == '/') return 63;
  return -1;
}

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

MailExtractResult reject(RejectionReason reason, std::string message) {
  MailExtractResult r;
  r.rejection = Rejection{reason, std::move(message)};
  return r;
}

}  // namespace

std::optional<std::string> decode_base64(std::string_view encoded) {
  std::string out;
  out.reserve(encoded.size() / 4 * 3 + 3);
  std::uint32_t bits = 0;
  int have = 0;
  bool padded = false;
  for (char c : encoded) {
    if (c == ' ' || c == '\t' || c == '\r' || c == '\n') continue;
    if (c == '=') {
      padded = true;
      continue;
    }
    const int v = base64_value(c);
    if (v < 0 || padded) return std::nullopt;
    bits = (bits << 6) | static_cast<std::uint32_t>(v);
    if (++have == 4) {
      out.push_back(static_cast<char>((bits >> 16) & 0xff));
      out.push_back(static_cast<char>((bits >> 8) & 0xff));
      out.push_back(static_cast<char>(bits & 0xff));
      bits = 0;
      have = 0;
    }
  }
  if (have == 1) return std::nullopt;  // six bits cannot make a byte
  if (have == 2) out.push_back(static_cast<char>((bits >> 4) & 0xff));
  if (have == 3) {
    out.push_back(static_cast<char>((bits >> 10) & 0xff));
    out.push_back(static_cast<char>((bits >> 2) & 0xff));
  }
  return out;
}

std::string decode_quoted_printable(std::string_view encoded) {
  std::string out;
  out.reserve(encoded.size());
  for (std::size_t i = 0; i < encoded.size(); ++i) {
    const char c = encoded[i];
    if (c != '=') {
      out.push_back(c);
      continue;
    }
    if (i + 1 < encoded.size() && encoded[i + 1] == '\n') {  // soft line break
      i += 1;
    } else if (i + 2 < encoded.size() && encoded[i + 1] == '\r' && encoded[i + 2] == '\n') {
      i += 2;
    } else if (i + 2 < encoded.size() && hex_value(encoded[i + 1]) >= 0 && hex_value(encoded[i + 2]) >= 0) {
      out.push_back(static_cast<char>(hex_value(encoded[i + 1]) * 16 + hex_value(encoded[i + 2])));
      i += 2;
    } else {
      out.push_back(c);  // RFC 2045 §6.7 (note 1): keep a stray '=' as is
    }
  }
  return out;
}

MailExtractResult extract_mail_report(std::string_view message, const MailLimits& limits) {
  if (message.size() > limits.max_message_bytes) {
    return reject(RejectionReason::kTooLarge, "message is " + std::to_string(message.size()) +
                                                  " bytes, over the limit of " +
                                                  std::to_string(limits.max_message_bytes));
  }
  MimeWalker walker(limits);
  MimeWalker::Candidate best;
  ContentType top_type;
  if (!walker.walk(message, 0, true, best, &top_type)) {
    return reject(RejectionReason::kMime, walker.error() ? walker.error()->message : "malformed MIME");
  }
  const Entity& top = walker.top();
  MailExtractResult result;
  MailReport& mail = result.mail;
  mail.tls_report_domain = top.header("tls-report-domain");
  mail.tls_report_submitter = top.header("tls-report-submitter");
  mail.subject = top.header("subject");
  mail.multipart_report_tlsrpt =
      top_type.media_type == "multipart/report" && lower(top_type.param("report-type")) == "tlsrpt";

  std::string why;
  if (best.rank == 0) {
    // Lenient: a single-part text message whose body is the JSON report itself.
    const bool single_text = top_type.media_type == "text/plain";
    if (!single_text) return reject(RejectionReason::kMime, "no application/tlsrpt+json or +gzip part found");
    auto decoded = decode_transfer(top, why);
    if (!decoded) return reject(RejectionReason::kMime, why);
    if (trim(*decoded).empty() || trim(*decoded).front() != '{') {
      return reject(RejectionReason::kMime, "no report part found and the body is not JSON");
    }
    mail.report_bytes = std::move(*decoded);
    mail.declared_content_type = top_type.media_type;
    mail.content_type = "application/tlsrpt+json";
    mail.bare_body = true;
    return result;
  }
  auto decoded = decode_transfer(best.entity, why);
  if (!decoded) return reject(RejectionReason::kMime, why);
  mail.report_bytes = std::move(*decoded);
  mail.declared_content_type = best.type.media_type;
  mail.filename = best.filename;
  if (best.rank == 2) {
    mail.content_type = best.type.media_type;
  } else {
    mail.content_type = looks_like_gzip(mail.report_bytes) ? "application/tlsrpt+gzip" : "application/tlsrpt+json";
  }
  return result;
}

}  // namespace mailtls::tlsrpt
