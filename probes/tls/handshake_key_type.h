#pragma once
// The key type of the certificate a server presents, as a client can ask for it: a server with
// an RSA and an ECDSA certificate picks one by the client's signature algorithms (and, up to
// TLS 1.2, its cipher suites). Limiting a handshake to one type shows that type's chain
// (docs/verdicts.md T14). Bounded values for the `key_type` label: "ecdsa", "rsa".

#include <optional>
#include <string_view>

#include "probes/tls/openssl_ptr.h"

namespace mailtls::tls {

enum class HandshakeKeyType { kEcdsa, kRsa };

std::string_view to_string(HandshakeKeyType k);  // "ecdsa", "rsa"

// The other one of the two.
HandshakeKeyType other_key_type(HandshakeKeyType k);

// The signature algorithms (SSL_set1_sigalgs_list) and the TLS 1.2-and-older cipher suites
// (SSL_set_cipher_list) that leave the server no certificate of another type.
const char* signature_algorithms_for(HandshakeKeyType k);
const char* cipher_suites_for(HandshakeKeyType k);

// The type of a leaf's key: EC keys are ECDSA, RSA and RSA-PSS keys RSA; anything else
// (Ed25519, DSA, unparseable) is neither.
std::optional<HandshakeKeyType> handshake_key_type_of(X509* leaf);

}  // namespace mailtls::tls
