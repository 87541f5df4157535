#include "probes/dane/tlsa_presentation.h"

#include <cctype>
#include <charconv>
#include <vector>

#include "probes/base/hex.h"

namespace mailtls::dane {
namespace {

std::vector<std::string_view> split_whitespace(std::string_view s) {
  std::vector<std::string_view> out;
  size_t i = 0;
  while (i < s.size()) {
    while (i < s.size() && std::isspace(static_cast<unsigned char>(s[i]))) ++i;
    size_t start = i;
    while (i < s.size() && !std::isspace(static_cast<unsigned char>(s[i]))) ++i;
    if (i > start) out.push_back(s.substr(start, i - start));
  }
  return out;
}

bool iequals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    if (std::tolower(static_cast<unsigned char>(a[i])) != std::tolower(static_cast<unsigned char>(b[i]))) {
      return false;
    }
  }
  return true;
}

// A decimal 0-255 or one of the mnemonics (RFC 7218 §2.1-§2.3), index = value.
std::optional<std::uint8_t> parse_field(std::string_view token,
                                        std::initializer_list<std::string_view> mnemonics) {
  int i = 0;
  for (auto m : mnemonics) {
    if (!m.empty() && iequals(token, m)) return static_cast<std::uint8_t>(i);
    ++i;
  }
  if (iequals(token, "PrivCert") || iequals(token, "PrivSel") || iequals(token, "PrivMatch")) return 255;
  unsigned parsed = 0;
  auto [end, ec] = std::from_chars(token.data(), token.data() + token.size(), parsed);
  if (ec != std::errc{} || end != token.data() + token.size() || parsed > 255) return std::nullopt;
  return static_cast<std::uint8_t>(parsed);
}

}  // namespace

TlsaParseResult parse_tlsa_presentation(std::string_view text) {
  TlsaParseResult out;
  auto tokens = split_whitespace(text);
  if (tokens.size() < 4) {
    out.error = "expected \"usage selector matching-type data\"";
    return out;
  }
  auto usage = parse_field(tokens[0], {"PKIX-TA", "PKIX-EE", "DANE-TA", "DANE-EE"});
  auto selector = parse_field(tokens[1], {"Cert", "SPKI"});
  auto matching = parse_field(tokens[2], {"Full", "SHA2-256", "SHA2-512"});
  if (!usage || !selector || !matching) {
    out.error = "usage, selector and matching type must be 0-255 or RFC 7218 mnemonics";
    return out;
  }
  std::string hex;
  for (size_t i = 3; i < tokens.size(); ++i) hex.append(tokens[i]);
  if (hex.size() % 2 != 0) {
    out.error = "association data has an odd number of hex digits";
    return out;
  }
  auto data = from_hex(hex);
  if (!data) {
    out.error = "association data is not hex";
    return out;
  }
  dns::TlsaRecord r;
  r.usage = *usage;
  r.selector = *selector;
  r.matching_type = *matching;
  r.data = std::move(*data);
  out.record = std::move(r);
  return out;
}

}  // namespace mailtls::dane
