#pragma once
// HTTP basic auth against the bcrypt hashes of --web.config.file (basic_auth_users).
// Every refusal costs about what an acceptance costs: an unknown user name is checked against
// a dummy hash of the same cost, so the answer time does not tell which user names exist.
// Thread safe.

#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <set>
#include <string>

namespace mailtls::exporter {

struct BasicCredentials {
  std::string user;
  std::string password;
};

// "Basic dXNlcjpwYXNz" -> {user, pass}; nullopt when the header is malformed in any way.
std::optional<BasicCredentials> decode_basic_credentials(const std::string& header);

class BasicAuth {
 public:
  using BcryptCheck = std::function<bool(const std::string& password, const std::string& hash)>;
  // `users`: user -> bcrypt hash. `check` is bcrypt_matches; tests pass a counting one.
  explicit BasicAuth(std::map<std::string, std::string> users, BcryptCheck check = {});

  bool enabled() const { return !users_.empty(); }
  // True when the Authorization header value names a user and their password.
  bool allows(const std::string& authorization) const;
  // The hash checked for unknown user names: a bcrypt of a random password at the cost of the
  // first configured hash.
  const std::string& dummy_hash() const { return dummy_hash_; }

 private:
  std::map<std::string, std::string> users_;
  BcryptCheck check_;
  std::string dummy_hash_;
  mutable std::mutex cache_mu_;
  // SHA-256 of "user:password" pairs already verified: bcrypt once per pair, not per scrape.
  mutable std::set<std::string> cache_;
};

}  // namespace mailtls::exporter
