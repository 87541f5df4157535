#pragma once
// Why a DANE check failed, in RFC 8460 §4.3 result types (docs/verdicts.md R7, §2), so probe
// metrics and received TLS-RPT reports join on (policy_domain, mx_host, result_type).

#include <string_view>

namespace mailtls::dane {

enum class DaneResultType {
  kOk,                        // "ok": a DANE sender would deliver
  kNotApplicable,             // "na": no secure TLSA RRset for this MX host
  kStarttlsNotSupported,      // "starttls-not-supported": T6
  kCertificateHostMismatch,   // "certificate-host-mismatch": DANE-TA name check failed (T9)
  kCertificateExpired,        // "certificate-expired": DANE-TA path has an expired (or not yet valid) certificate
  kTlsaInvalid,               // "tlsa-invalid": no counted record matches the chain
  kDnssecInvalid,             // "dnssec-invalid": MX/address/TLSA lookup bogus or indeterminate
  kValidationFailure,         // "validation-failure": handshake failed, unparseable chain, other path errors
  kProbeError,                // "probe-error": the address could not be reached; nothing is known
};

std::string_view to_string(DaneResultType t);

}  // namespace mailtls::dane
