#pragma once
// --web.config.file in the Prometheus exporter-toolkit format:
//
//   tls_server_config:
//     cert_file: server.crt
//     key_file: server.key
//     client_auth_type: RequireAndVerifyClientCert   # or NoClientCert (default)
//     client_ca_file: clients-ca.crt
//     min_version: TLS12                              # TLS10..TLS13
//   basic_auth_users:
//     prometheus: $2y$10$...                          # bcrypt hashes
//
// Misconfiguration (missing files, a key that does not match the certificate, a password that
// is not a bcrypt hash) is found at load time, so the exporter refuses to start.

#include <map>
#include <optional>
#include <string>

namespace mailtls::exporter {

struct WebTlsConfig {
  std::string cert_file;
  std::string key_file;
  std::string client_ca_file;
  bool require_client_cert = false;
  int min_version = 0;  // an OpenSSL TLS1_x_VERSION; 0 = TLS 1.2
};

struct WebConfig {
  std::optional<WebTlsConfig> tls;
  std::map<std::string, std::string> basic_auth_users;  // user -> bcrypt hash
};

struct WebConfigResult {
  std::optional<WebConfig> config;
  std::string error;
};

WebConfigResult load_web_config_file(const std::string& path);
WebConfigResult load_web_config_text(const std::string& text, const std::string& name);

// Checks a password against a bcrypt hash ($2a$, $2b$, $2y$), in constant time for the compare.
bool bcrypt_matches(const std::string& password, const std::string& hash);

}  // namespace mailtls::exporter
