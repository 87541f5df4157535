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

std::optional<OtherKeyTypeProbe> probe_other_key_type(const StarttlsProber& prober,
                                                      const StarttlsResult& first,
                                                      Deadline deadline) {
  if (!first.starttls_ok || !first.key_type) return std::nullopt;
  OtherKeyTypeProbe out;
  out.key_type = tls::other_key_type(*first.key_type);
  out.result = prober.probe(first.address, first.sni_name, deadline, out.key_type);
  if (out.result.starttls_ok && out.result.key_type == out.key_type) {
    out.offer = KeyTypeOffer::kOffered;
  } else if (out.result.failure == StarttlsFailure::kKeyTypeNotOffered) {
    out.offer = KeyTypeOffer::kNotOffered;
  }
  return out;
}

}  // namespace mailtls::smtp
