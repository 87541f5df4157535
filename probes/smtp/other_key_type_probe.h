#pragma once
// Every key type one address offers (docs/verdicts.md T14), found cheaply: the unrestricted
// handshake shows the key type the server prefers; one more handshake, limited to the other
// type (ECDSA or RSA), shows whether the server has a second certificate and which chain it
// presents with it. A server with one certificate refuses the second handshake
// (StarttlsFailure::kKeyTypeNotOffered): that is "not offered", not a failure.

#include <optional>

#include "probes/base/deadline.h"
#include "probes/smtp/starttls_probe.h"
#include "probes/tls/handshake_key_type.h"

namespace mailtls::smtp {

enum class KeyTypeOffer {
  kOffered,     // the limited handshake completed with a certificate of that type
  kNotOffered,  // the server has no certificate of that type
  kUnknown,     // the limited handshake failed otherwise (timeout, connection lost): cannot say
};
std::string_view to_string(KeyTypeOffer o);  // "offered", "not_offered", "unknown"

struct OtherKeyTypeProbe {
  tls::HandshakeKeyType key_type = tls::HandshakeKeyType::kRsa;  // the type asked for
  KeyTypeOffer offer = KeyTypeOffer::kUnknown;
  StarttlsResult result;  // the limited handshake; its chain when offered
};

// The key type to ask for after `first`, an unrestricted probe of an address: the other one,
// when `first` completed its handshake with an ECDSA or RSA leaf; nothing otherwise.
std::optional<tls::HandshakeKeyType> other_key_type_to_ask(const StarttlsResult& first);

// What a handshake limited to `asked` says about the server.
KeyTypeOffer key_type_offer(const StarttlsResult& limited, tls::HandshakeKeyType asked);

// When `first` (an unrestricted probe of this address) completed its handshake with an ECDSA or
// RSA leaf: probes the same address and SNI limited to the other type. Otherwise nothing is
// asked and the result is empty.
std::optional<OtherKeyTypeProbe> probe_other_key_type(const StarttlsProber& prober,
                                                      const StarttlsResult& first,
                                                      Deadline deadline);

}  // namespace mailtls::smtp
