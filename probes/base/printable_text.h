#pragma once
// Text that came from a peer (SMTP replies, TXT records, certificate names, policy bodies) may
// hold any bytes. Before it reaches a Prometheus label, a JSON document, a log line or a
// terminal it is made valid UTF-8 without control characters: invalid UTF-8 would make
// Prometheus reject the whole /metrics page and nlohmann::json::dump() throw, and an ESC or a
// newline from a banner would drive the operator's terminal or forge report lines.

#include <cstddef>
#include <string>
#include <string_view>

namespace mailtls {

// `s` as valid UTF-8 with every control character escaped, so that it prints on one line:
//  * a byte that does not start a valid UTF-8 sequence (stray continuation bytes, overlong
//    forms, surrogates, code points past U+10FFFF, a sequence cut short) becomes "\xNN";
//  * C0 controls and DEL become "\xNN" ("\x1b" for ESC, "\x0a" for a newline);
//  * C1 controls (U+0080-U+009F), the line and paragraph separators U+2028/U+2029 and the
//    bidirectional overrides and isolates (U+202A-U+202E, U+2066-U+2069) become "\u{XXXX}".
// Everything else, backslashes included, is kept, so the function is idempotent: printable
// text (a DNS name in presentation format, an earlier result) passes through unchanged.
std::string printable_text(std::string_view s);

// True when printable_text(s) == s.
bool is_printable_text(std::string_view s);

// `s` with only the invalid UTF-8 escaped ("\xNN" per byte, as printable_text does); control
// characters are kept. For formats that escape those themselves (a Prometheus label value
// escapes a newline as "\n"), as a last line of defence.
std::string valid_utf8(std::string_view s);
bool is_valid_utf8(std::string_view s);

// The longest prefix of `s` of at most `max_bytes` bytes that does not end inside a UTF-8
// sequence (a cut multi-byte character is dropped whole, not left as a stray lead byte).
std::string_view utf8_prefix(std::string_view s, std::size_t max_bytes);

}  // namespace mailtls
