#include "exporter/config/go_tls_names.h"

#include <openssl/ssl.h>

#include <array>
#include <string_view>
#include <utility>

namespace mailtls::exporter {
namespace {

using NamePair = std::pair<std::string_view, std::string_view>;  // Go, OpenSSL

// Go's tls.CipherSuites() below TLS 1.3, with the OpenSSL names of the same IANA suites.
constexpr std::array kSecureSuites = {
    NamePair{"TLS_RSA_WITH_AES_128_CBC_SHA", "AES128-SHA"},
    NamePair{"TLS_RSA_WITH_AES_256_CBC_SHA", "AES256-SHA"},
    NamePair{"TLS_RSA_WITH_AES_128_GCM_SHA256", "AES128-GCM-SHA256"},
    NamePair{"TLS_RSA_WITH_AES_256_GCM_SHA384", "AES256-GCM-SHA384"},
    NamePair{"TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA", "ECDHE-ECDSA-AES128-SHA"},
    NamePair{"TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA", "ECDHE-ECDSA-AES256-SHA"},
    NamePair{"TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA", "ECDHE-RSA-AES128-SHA"},
    NamePair{"TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA", "ECDHE-RSA-AES256-SHA"},
    NamePair{"TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256", "ECDHE-ECDSA-AES128-GCM-SHA256"},
    NamePair{"TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384", "ECDHE-ECDSA-AES256-GCM-SHA384"},
    NamePair{"TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256", "ECDHE-RSA-AES128-GCM-SHA256"},
    NamePair{"TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384", "ECDHE-RSA-AES256-GCM-SHA384"},
    NamePair{"TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256", "ECDHE-RSA-CHACHA20-POLY1305"},
    NamePair{"TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256", "ECDHE-ECDSA-CHACHA20-POLY1305"},
    // Go's older names of the two ChaCha20 suites, still accepted by Go.
    NamePair{"TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305", "ECDHE-RSA-CHACHA20-POLY1305"},
    NamePair{"TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305", "ECDHE-ECDSA-CHACHA20-POLY1305"},
};

// Go's tls.InsecureCipherSuites().
constexpr std::array<std::string_view, 8> kInsecureSuites = {
    "TLS_RSA_WITH_RC4_128_SHA",           "TLS_RSA_WITH_3DES_EDE_CBC_SHA",
    "TLS_RSA_WITH_AES_128_CBC_SHA256",    "TLS_ECDHE_ECDSA_WITH_RC4_128_SHA",
    "TLS_ECDHE_RSA_WITH_RC4_128_SHA",     "TLS_ECDHE_RSA_WITH_3DES_EDE_CBC_SHA",
    "TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA256", "TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA256",
};

constexpr std::array<std::string_view, 3> kTls13Suites = {
    "TLS_AES_128_GCM_SHA256", "TLS_AES_256_GCM_SHA384", "TLS_CHACHA20_POLY1305_SHA256"};

constexpr std::array kCurves = {
    NamePair{"CurveP256", "P-256"},
    NamePair{"CurveP384", "P-384"},
    NamePair{"CurveP521", "P-521"},
    NamePair{"X25519", "X25519"},
};

template <class List>
bool contains(const List& list, const std::string& name) {
  for (std::string_view n : list) {
    if (n == name) return true;
  }
  return false;
}

}  // namespace

OpensslName openssl_cipher_for_go_suite(const std::string& go_name) {
  for (const auto& [go, openssl] : kSecureSuites) {
    if (go == go_name) return {std::string(openssl), ""};
  }
  if (contains(kInsecureSuites, go_name)) return {"", go_name + " is insecure and not supported"};
  if (contains(kTls13Suites, go_name)) {
    return {"", go_name +
                    " is a TLS 1.3 suite; TLS 1.3 suites are not configurable (as in Go): all "
                    "three are always offered with TLS 1.3; list only TLS 1.2 suites"};
  }
  return {"", "unknown cipher suite " + go_name + " (Go's names, e.g. TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256)"};
}

OpensslName openssl_group_for_go_curve(const std::string& go_name) {
  for (const auto& [go, openssl] : kCurves) {
    if (go == go_name) return {std::string(openssl), ""};
  }
  if (go_name == "X25519MLKEM768") return {"", go_name + " is not supported by this OpenSSL"};
  return {"", "unknown curve " + go_name + " (one of CurveP256, CurveP384, CurveP521, X25519)"};
}

int openssl_version_for_go_name(const std::string& go_name) {
  if (go_name == "TLS10") return TLS1_VERSION;
  if (go_name == "TLS11") return TLS1_1_VERSION;
  if (go_name == "TLS12") return TLS1_2_VERSION;
  if (go_name == "TLS13") return TLS1_3_VERSION;
  return 0;
}

}  // namespace mailtls::exporter
