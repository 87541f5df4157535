#pragma once
// Lower-case hexadecimal, the one encoding of bytes as text in this project: TLSA association
// data ("3 1 1 000c70..."), digests in labels, the state file and logs, "\xNN" escapes.

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace mailtls {

// Two lower-case digits per byte, no separators: {0x00, 0xc7} -> "00c7".
std::string to_hex(std::span<const std::uint8_t> bytes);
std::string to_hex(std::string_view bytes);

// Appends the two lower-case digits of one byte to `out`.
void append_hex(std::string& out, std::uint8_t byte);

// The value of one hex digit (either case), or -1 when `c` is not one.
int hex_digit_value(char c);

// The bytes of `hex` (either case, no separators); nullopt when its length is odd or it holds
// anything but hex digits.
std::optional<std::vector<std::uint8_t>> from_hex(std::string_view hex);

}  // namespace mailtls
