#include "probes/base/sha256.h"

#include <openssl/evp.h>

#include <stdexcept>

#include "probes/base/hex.h"

namespace mailtls {

Sha256Digest sha256(std::span<const std::uint8_t> bytes) {
  Sha256Digest digest{};
  unsigned int length = 0;
  // Fails only when OpenSSL cannot allocate or has no SHA-256: the monitor's fault, not a peer's.
  if (EVP_Digest(bytes.data(), bytes.size(), digest.data(), &length, EVP_sha256(), nullptr) != 1 ||
      length != digest.size()) {
    throw std::runtime_error("EVP_Digest(SHA-256) failed");
  }
  return digest;
}

Sha256Digest sha256(std::string_view bytes) {
  return sha256(std::span(reinterpret_cast<const std::uint8_t*>(bytes.data()), bytes.size()));
}

std::string sha256_hex(std::span<const std::uint8_t> bytes) { return to_hex(sha256(bytes)); }

std::string sha256_hex(std::string_view bytes) { return to_hex(sha256(bytes)); }

}  // namespace mailtls
