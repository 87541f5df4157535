#pragma once
// SHA-256 (FIPS 180-4) through OpenSSL, raw or as lower-case hex: TLSA x 0 1 / x 1 1 association
// data, certificate fingerprints, MTA-STS policy body hashes, TLS-RPT dedup keys, state keys.

#include <array>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>

namespace mailtls {

using Sha256Digest = std::array<std::uint8_t, 32>;

Sha256Digest sha256(std::span<const std::uint8_t> bytes);
Sha256Digest sha256(std::string_view bytes);

// 64 lower-case hex digits.
std::string sha256_hex(std::span<const std::uint8_t> bytes);
std::string sha256_hex(std::string_view bytes);

}  // namespace mailtls
