#pragma once
// The names a Prometheus web config uses for TLS parameters are Go's crypto/tls constants
// (TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256, CurveP256, TLS12). These translate them to what
// OpenSSL takes, or say why a name is refused.

#include <string>

namespace mailtls::exporter {

struct OpensslName {
  std::string name;   // OpenSSL's name; empty when refused
  std::string error;  // why the Go name is refused
};

// A TLS 1.0-1.2 cipher suite from Go's tls.CipherSuites() -> its OpenSSL cipher name
// ("ECDHE-RSA-AES128-GCM-SHA256"). Refused: Go's insecure suites (tls.InsecureCipherSuites(),
// which exporter-toolkit refuses too), the TLS 1.3 suites (not configurable, in Go as here)
// and unknown names.
OpensslName openssl_cipher_for_go_suite(const std::string& go_name);

// A curve of Go's tls.CurveID (CurveP256, CurveP384, CurveP521, X25519) -> an OpenSSL group
// name ("P-256"). Refused: names OpenSSL here has no group for, unknown names.
OpensslName openssl_group_for_go_curve(const std::string& go_name);

// "TLS10".."TLS13" -> TLS1_VERSION..TLS1_3_VERSION; 0 for anything else.
int openssl_version_for_go_name(const std::string& go_name);

}  // namespace mailtls::exporter
