#pragma once
// --web.config.file in the Prometheus exporter-toolkit format. Every key of that format is
// either honoured or refused at load with `file:line: key: not supported` (never ignored):
//
//   tls_server_config:
//     cert_file: server.crt          # or cert: <inline PEM>
//     key_file: server.key           # or key: <inline PEM>
//     client_auth_type: RequireAndVerifyClientCert
//         # NoClientCert (default), RequestClientCert, RequireAnyClientCert,
//         # VerifyClientCertIfGiven, RequireAndVerifyClientCert
//     client_ca_file: clients-ca.crt # or client_ca: <inline PEM>
//     client_allowed_sans: [prometheus.example.net]  # exact DNS, IP, e-mail or URI SAN
//     min_version: TLS12             # TLS10..TLS13, default TLS12
//     max_version: TLS13             # default TLS13
//     cipher_suites: [TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256]  # TLS 1.2 suites, Go names
//     prefer_server_cipher_suites: true                        # default true
//     curve_preferences: [X25519, CurveP256]                   # Go names
//   http_server_config:
//     headers: {Strict-Transport-Security: max-age=31536000}   # the five toolkit headers
//     http2: false                   # HTTP/1.1 only: true is refused
//   basic_auth_users:
//     prometheus: $2y$10$...         # bcrypt hashes
//   # rate_limit: refused (not supported)
//
// Relative file names are relative to the web config file. Misconfiguration (missing files,
// a key that does not match the certificate, a password that is not a bcrypt hash, a suite
// OpenSSL lacks) is found at load time, so the exporter refuses to start (or to reload).

#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace mailtls::exporter {

// Go's tls.ClientAuthType, by the names the web config uses.
enum class ClientAuthType {
  kNoClientCert,
  kRequestClientCert,           // asked for, not required, not verified
  kRequireAnyClientCert,        // required, not verified
  kVerifyClientCertIfGiven,     // not required; verified when sent
  kRequireAndVerifyClientCert,  // required and verified
};

struct WebTlsConfig {
  // Each PEM is either in a file (read, and reread when it changes, by the server) or inline.
  std::string cert_file, cert_pem;
  std::string key_file, key_pem;
  std::string client_ca_file, client_ca_pem;
  ClientAuthType client_auth = ClientAuthType::kNoClientCert;
  std::vector<std::string> client_allowed_sans;  // empty: any client the policy lets in
  int min_version = 0;  // an OpenSSL TLS1_x_VERSION; 0 = TLS 1.2
  int max_version = 0;  // 0 = the highest (TLS 1.3)
  std::string cipher_list;  // OpenSSL names, ':'-separated, in order; empty: OpenSSL's default
  bool prefer_server_cipher_suites = true;
  std::string groups_list;  // OpenSSL group names, ':'-separated; empty: OpenSSL's default
};

struct WebConfig {
  std::optional<WebTlsConfig> tls;
  std::map<std::string, std::string> basic_auth_users;  // user -> bcrypt hash
  // http_server_config.headers, sent with every answer.
  std::vector<std::pair<std::string, std::string>> response_headers;
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
