#include "probes/tls/handshake_key_type.h"

#include <openssl/evp.h>
#include <openssl/x509.h>

namespace mailtls::tls {

std::string_view to_string(HandshakeKeyType k) {
  switch (k) {
    case HandshakeKeyType::kEcdsa: return "ecdsa";
    case HandshakeKeyType::kRsa: return "rsa";
  }
  return "unknown";
}

HandshakeKeyType other_key_type(HandshakeKeyType k) {
  return k == HandshakeKeyType::kEcdsa ? HandshakeKeyType::kRsa : HandshakeKeyType::kEcdsa;
}

const char* signature_algorithms_for(HandshakeKeyType k) {
  // "RSA-PSS+..." are the rsa_pss_rsae_* schemes TLS 1.3 needs for an RSA key; "RSA+..." the
  // PKCS#1 v1.5 ones of TLS 1.2.
  switch (k) {
    case HandshakeKeyType::kEcdsa: return "ECDSA+SHA256:ECDSA+SHA384:ECDSA+SHA512:ECDSA+SHA1";
    case HandshakeKeyType::kRsa:
      return "RSA-PSS+SHA256:RSA-PSS+SHA384:RSA-PSS+SHA512:RSA+SHA256:RSA+SHA384:RSA+SHA512:RSA+SHA1";
  }
  return "";
}

const char* cipher_suites_for(HandshakeKeyType k) {
  switch (k) {
    case HandshakeKeyType::kEcdsa: return "aECDSA:@SECLEVEL=0";
    case HandshakeKeyType::kRsa: return "aRSA:@SECLEVEL=0";
  }
  return "";
}

std::optional<HandshakeKeyType> handshake_key_type_of(X509* leaf) {
  if (leaf == nullptr) return std::nullopt;
  const EVP_PKEY* key = X509_get0_pubkey(leaf);
  if (key == nullptr) return std::nullopt;
  switch (EVP_PKEY_get_base_id(key)) {
    case EVP_PKEY_EC: return HandshakeKeyType::kEcdsa;
    case EVP_PKEY_RSA:
    case EVP_PKEY_RSA_PSS: return HandshakeKeyType::kRsa;
    default: return std::nullopt;
  }
}

}  // namespace mailtls::tls
