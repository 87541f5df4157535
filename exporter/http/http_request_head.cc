#include "exporter/http/http_request_head.h"

#include "probes/base/hex.h"

namespace mailtls::exporter {
namespace {

bool percent_decode(std::string_view in, bool plus_is_space, std::string* out) {
  out->clear();
  out->reserve(in.size());
  for (size_t i = 0; i < in.size(); ++i) {
    if (in[i] == '%') {
      if (i + 2 >= in.size()) return false;
      const int hi = hex_digit_value(in[i + 1]), lo = hex_digit_value(in[i + 2]);
      if (hi < 0 || lo < 0) return false;
      out->push_back(static_cast<char>(hi * 16 + lo));
      i += 2;
    } else if (plus_is_space && in[i] == '+') {
      out->push_back(' ');
    } else {
      out->push_back(in[i]);
    }
  }
  return true;
}

}  // namespace

size_t find_request_head_end(std::string_view buffered) {
  const size_t at = buffered.find("\r\n\r\n");
  return at == std::string_view::npos ? at : at + 4;
}

std::string check_request_head(std::string_view head) {
  size_t line_start = 0;
  bool first_line = true;
  while (line_start < head.size()) {
    const size_t cr = head.find('\r', line_start);
    if (cr == std::string_view::npos || cr + 1 >= head.size() || head[cr + 1] != '\n') {
      return "bare CR in the request head";
    }
    const std::string_view line = head.substr(line_start, cr - line_start);
    line_start = cr + 2;
    for (char c : line) {
      const auto u = static_cast<unsigned char>(c);
      if ((u < 0x20 && c != '\t') || u == 0x7f) return "control character in the request head";
    }
    if (first_line) {
      first_line = false;
      continue;
    }
    if (line.empty()) break;  // the end of the head
    if (line[0] == ' ' || line[0] == '\t') return "folded header line (obs-fold)";
    const size_t colon = line.find(':');
    if (colon == std::string_view::npos || colon == 0) return "header line without a field name";
    const char before = line[colon - 1];
    if (before == ' ' || before == '\t') return "white space before a header field's colon";
  }
  return "";
}

bool parse_request_target(std::string_view target, std::string* path,
                          std::multimap<std::string, std::string>* params) {
  if (target.empty() || target[0] != '/') return false;
  const size_t q = target.find('?');
  if (!percent_decode(target.substr(0, q), false, path)) return false;
  params->clear();
  if (q == std::string_view::npos) return true;
  std::string_view query = target.substr(q + 1);
  if (const size_t hash = query.find('#'); hash != std::string_view::npos) query = query.substr(0, hash);
  while (!query.empty()) {
    const size_t amp = query.find('&');
    const std::string_view pair = query.substr(0, amp);
    query = amp == std::string_view::npos ? std::string_view() : query.substr(amp + 1);
    if (pair.empty()) continue;
    const size_t eq = pair.find('=');
    std::string key, value;
    if (!percent_decode(pair.substr(0, eq), true, &key)) return false;
    if (eq != std::string_view::npos && !percent_decode(pair.substr(eq + 1), true, &value)) return false;
    params->emplace(std::move(key), std::move(value));
  }
  return true;
}

}  // namespace mailtls::exporter
