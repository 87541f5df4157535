#include "exporter/runtime/file_fingerprint.h"

#include <openssl/evp.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <memory>

namespace mailtls::exporter {

std::string file_fingerprint(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return errno == ENOENT ? "missing" : "unreadable: " + std::string(std::strerror(errno));
  std::unique_ptr<EVP_MD_CTX, decltype(&EVP_MD_CTX_free)> md(EVP_MD_CTX_new(), EVP_MD_CTX_free);
  if (!md || EVP_DigestInit_ex(md.get(), EVP_sha256(), nullptr) != 1) return "unreadable: no SHA-256";
  char buf[64 << 10];
  size_t total = 0;
  while (total < kMaxFingerprintBytes && in.read(buf, sizeof buf).gcount() > 0) {
    const auto n = static_cast<size_t>(in.gcount());
    EVP_DigestUpdate(md.get(), buf, n);
    total += n;
  }
  if (in.bad()) return "unreadable: read error";
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  EVP_DigestFinal_ex(md.get(), digest, &len);
  static const char* hex = "0123456789abcdef";
  std::string out;
  for (unsigned int i = 0; i < len; ++i) {
    out += hex[digest[i] >> 4];
    out += hex[digest[i] & 15];
  }
  return out;
}

}  // namespace mailtls::exporter
