#include "probes/base/printable_text.h"

#include <cstdint>

#include "probes/base/hex.h"

namespace mailtls {
namespace {

std::uint8_t byte_at(std::string_view s, std::size_t i) { return static_cast<std::uint8_t>(s[i]); }

// Length of the well-formed UTF-8 sequence at s[i] (RFC 3629 §4), 0 when there is none; the
// code point goes to *cp.
std::size_t utf8_sequence(std::string_view s, std::size_t i, std::uint32_t* cp) {
  const std::uint8_t b0 = byte_at(s, i);
  if (b0 < 0x80) {
    *cp = b0;
    return 1;
  }
  std::size_t len = 0;
  std::uint32_t v = 0;
  std::uint8_t lo = 0x80;  // bounds of the second byte, which rule out overlong forms,
  std::uint8_t hi = 0xBF;  // surrogates and values past U+10FFFF
  if (b0 >= 0xC2 && b0 <= 0xDF) {
    len = 2;
    v = b0 & 0x1F;
  } else if (b0 >= 0xE0 && b0 <= 0xEF) {
    len = 3;
    v = b0 & 0x0F;
    if (b0 == 0xE0) lo = 0xA0;
    if (b0 == 0xED) hi = 0x9F;
  } else if (b0 >= 0xF0 && b0 <= 0xF4) {
    len = 4;
    v = b0 & 0x07;
    if (b0 == 0xF0) lo = 0x90;
    if (b0 == 0xF4) hi = 0x8F;
  } else {
    return 0;
  }
  if (s.size() - i < len) return 0;
  for (std::size_t k = 1; k < len; ++k) {
    const std::uint8_t b = byte_at(s, i + k);
    if (k == 1 ? (b < lo || b > hi) : (b < 0x80 || b > 0xBF)) return 0;
    v = (v << 6) | (b & 0x3F);
  }
  *cp = v;
  return len;
}

// Code points that move the cursor, end a line or reorder text on a terminal or in a browser.
bool is_control(std::uint32_t cp) {
  return cp < 0x20 || cp == 0x7F || (cp >= 0x80 && cp <= 0x9F) || cp == 0x2028 || cp == 0x2029 ||
         (cp >= 0x202A && cp <= 0x202E) || (cp >= 0x2066 && cp <= 0x2069);
}

void append_byte_escape(std::string& out, std::uint8_t b) {
  out += "\\x";
  append_hex(out, b);
}

void append_code_point_escape(std::string& out, std::uint32_t cp) {
  out += "\\u{";
  // Every escaped code point is below U+10000 (see is_control), so four digits.
  append_hex(out, static_cast<std::uint8_t>(cp >> 8));
  append_hex(out, static_cast<std::uint8_t>(cp & 0xFF));
  out += '}';
}

// Copies `s`, escaping bytes that are not UTF-8 as \xNN and, with `controls`, control
// characters too (C0 and DEL as \xNN, others as \u{XXXX}). The one loop behind
// printable_text() and valid_utf8().
std::string escaped(std::string_view s, bool controls) {
  std::string out;
  out.reserve(s.size());
  for (std::size_t i = 0; i < s.size();) {
    std::uint32_t cp = 0;
    const std::size_t len = utf8_sequence(s, i, &cp);
    if (len == 0) {
      append_byte_escape(out, byte_at(s, i));
      ++i;
      continue;
    }
    if (controls && is_control(cp)) {
      if (len == 1) {
        append_byte_escape(out, static_cast<std::uint8_t>(cp));
      } else {
        append_code_point_escape(out, cp);
      }
    } else {
      out.append(s.substr(i, len));
    }
    i += len;
  }
  return out;
}

// True when escaped(s, controls) == s.
bool needs_no_escape(std::string_view s, bool controls) {
  for (std::size_t i = 0; i < s.size();) {
    std::uint32_t cp = 0;
    const std::size_t len = utf8_sequence(s, i, &cp);
    if (len == 0 || (controls && is_control(cp))) return false;
    i += len;
  }
  return true;
}

}  // namespace

std::string printable_text(std::string_view s) { return escaped(s, /*controls=*/true); }
bool is_printable_text(std::string_view s) { return needs_no_escape(s, /*controls=*/true); }
std::string valid_utf8(std::string_view s) { return escaped(s, /*controls=*/false); }
bool is_valid_utf8(std::string_view s) { return needs_no_escape(s, /*controls=*/false); }

std::string_view utf8_prefix(std::string_view s, std::size_t max_bytes) {
  if (s.size() <= max_bytes) return s;
  std::size_t end = max_bytes;
  // Back up over continuation bytes to the start of the sequence that the cut falls in (at
  // most 3 of them in valid UTF-8), and drop that sequence.
  std::size_t back = 0;
  while (end > 0 && back < 3 && (byte_at(s, end) & 0xC0) == 0x80) {
    --end;
    ++back;
  }
  if (back == 3 && (byte_at(s, end) & 0xC0) == 0x80) end = max_bytes;  // not UTF-8 anyway
  return s.substr(0, end);
}

}  // namespace mailtls
