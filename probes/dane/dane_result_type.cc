#include "probes/dane/dane_result_type.h"

namespace mailtls::dane {

std::string_view to_string(DaneResultType t) {
  switch (t) {
    case DaneResultType::kOk: return "ok";
    case DaneResultType::kNotApplicable: return "na";
    case DaneResultType::kStarttlsNotSupported: return "starttls-not-supported";
    case DaneResultType::kCertificateHostMismatch: return "certificate-host-mismatch";
    case DaneResultType::kCertificateExpired: return "certificate-expired";
    case DaneResultType::kTlsaInvalid: return "tlsa-invalid";
    case DaneResultType::kDnssecInvalid: return "dnssec-invalid";
    case DaneResultType::kValidationFailure: return "validation-failure";
    case DaneResultType::kProbeError: return "probe-error";
  }
  return "validation-failure";
}

}  // namespace mailtls::dane
