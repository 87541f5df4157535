#include "probes/smtp/other_key_type_probe.h"

namespace mailtls::smtp {

std::string_view to_string(KeyTypeOffer o) {
  switch (o) {
    case KeyTypeOffer::kOffered: return "offered";
    case KeyTypeOffer::kNotOffered: return "not_offered";
    case KeyTypeOffer::kUnknown: return "unknown";
  }
  return "unknown";
}

std::optional<tls::HandshakeKeyType> other_key_type_to_ask(const StarttlsResult& first) {
  if (!first.starttls_ok || !first.key_type) return std::nullopt;
  return tls::other_key_type(*first.key_type);
}

KeyTypeOffer key_type_offer(const StarttlsResult& limited, tls::HandshakeKeyType asked) {
  if (limited.starttls_ok && limited.key_type == asked) return KeyTypeOffer::kOffered;
  if (limited.failure == StarttlsFailure::kKeyTypeNotOffered) return KeyTypeOffer::kNotOffered;
  return KeyTypeOffer::kUnknown;
}

}  // namespace mailtls::smtp
