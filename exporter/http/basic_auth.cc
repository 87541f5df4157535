#include "exporter/http/basic_auth.h"

#include <crypt.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <strings.h>

#include <cstring>

#include "exporter/config/web_config.h"
#include "probes/base/sha256.h"

namespace mailtls::exporter {
namespace {

// A bcrypt hash of a random password with the same cost ("$2y$10$") as `like`, made once.
std::string make_dummy_hash(const std::string& like) {
  const std::string prefix = like.size() >= 7 ? like.substr(0, 7) : "$2b$10$";
  unsigned char random[16];
  RAND_bytes(random, sizeof random);
  char salt[CRYPT_GENSALT_OUTPUT_SIZE];
  const unsigned long cost = std::strtoul(prefix.c_str() + 4, nullptr, 10);
  if (crypt_gensalt_rn(prefix.substr(0, 4).c_str(), cost, reinterpret_cast<const char*>(random),
                       sizeof random, salt, sizeof salt) == nullptr) {
    return "";
  }
  crypt_data data;
  std::memset(&data, 0, sizeof data);
  std::string password(32, '\0');
  RAND_bytes(reinterpret_cast<unsigned char*>(password.data()), 24);
  for (char& c : password) c = static_cast<char>('a' + static_cast<unsigned char>(c) % 26);
  const char* out = crypt_r(password.c_str(), salt, &data);
  return out && out[0] == '$' ? out : "";
}

}  // namespace

std::optional<BasicCredentials> decode_basic_credentials(const std::string& header) {
  if (header.size() < 7 || strncasecmp(header.c_str(), "Basic ", 6) != 0) return std::nullopt;
  const std::string b64 = header.substr(6);
  if (b64.empty() || b64.size() > 4096 || b64.size() % 4 != 0) return std::nullopt;
  // Padding is at most two '=' and only at the end ("====" made the length underflow).
  size_t padding = 0;
  while (padding < b64.size() && b64[b64.size() - 1 - padding] == '=') ++padding;
  if (padding > 2) return std::nullopt;
  std::string out(b64.size() / 4 * 3, '\0');
  const int n = EVP_DecodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                                reinterpret_cast<const unsigned char*>(b64.data()),
                                static_cast<int>(b64.size()));
  if (n < 0 || static_cast<size_t>(n) < padding) return std::nullopt;
  out.resize(static_cast<size_t>(n) - padding);
  const auto colon = out.find(':');
  if (colon == std::string::npos) return std::nullopt;
  return BasicCredentials{out.substr(0, colon), out.substr(colon + 1)};
}

BasicAuth::BasicAuth(std::map<std::string, std::string> users, BcryptCheck check)
    : users_(std::move(users)), check_(check ? std::move(check) : BcryptCheck(bcrypt_matches)) {
  if (!users_.empty()) dummy_hash_ = make_dummy_hash(users_.begin()->second);
}

bool BasicAuth::allows(const std::string& authorization) const {
  const auto creds = decode_basic_credentials(authorization);
  if (!creds) return false;
  const std::string key = sha256_hex(creds->user + ":" + creds->password);
  {
    std::lock_guard lock(cache_mu_);
    if (cache_.count(key)) return true;
  }
  const auto it = users_.find(creds->user);
  // An unknown user costs a bcrypt too, against a hash no password matches in practice.
  const bool known = it != users_.end();
  const bool match = check_(creds->password, known ? it->second : dummy_hash_);
  if (!known || !match) return false;
  std::lock_guard lock(cache_mu_);
  if (cache_.size() > 1000) cache_.clear();
  cache_.insert(key);
  return true;
}

}  // namespace mailtls::exporter
