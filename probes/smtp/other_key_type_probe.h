#pragma once
// Every key type one address offers (docs/verdicts.md T14), found cheaply: the unrestricted
// handshake shows the key type the server prefers; one more handshake, limited to the other
// type (ECDSA or RSA), shows whether the server has a second certificate and which chain it
// presents with it. A server with one certificate refuses the second handshake
// (StarttlsFailure::kKeyTypeNotOffered): that is "not offered", not a failure.

#include <optional>

#include "probes/smtp/starttls_probe.h"
#include "probes/tls/handshake_key_type.h"

namespace mailtls::smtp {

enum class KeyTypeOffer {
  kOffered,     // the limited handshake completed with a certificate of that type
  kNotOffered,  // the server has no certificate of that type
  kUnknown,     // the limited handshake failed otherwise (timeout, connection lost): cannot say
};
std::string_view to_string(KeyTypeOffer o);  // "offered", "not_offered", "unknown"

// The key type to ask for after `first`, an unrestricted probe of an address: the other one,
// when `first` completed its handshake with an ECDSA or RSA leaf; nothing otherwise.
std::optional<tls::HandshakeKeyType> other_key_type_to_ask(const StarttlsResult& first);

// What a handshake limited to `asked` says about the server.
KeyTypeOffer key_type_offer(const StarttlsResult& limited, tls::HandshakeKeyType asked);

}  // namespace mailtls::smtp
