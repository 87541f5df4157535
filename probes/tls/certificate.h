#pragma once
// Facts about one X.509 certificate, from its DER bytes or a parsed X509: what the exporter shows (subject,
// issuer, validity, SPKI digest) and what DANE and WebPKI checks refer to. Defensive: input is
// whatever a remote server sent; bad or oversized DER is an error result, never a crash.

#include <cstddef>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "probes/base/clock.h"
#include "probes/base/expected.h"
#include "probes/tls/der_chain.h"
#include "probes/tls/openssl_ptr.h"

namespace mailtls::tls {

enum class KeyType { kUnknown, kRsa, kEc, kEd25519, kEd448, kDsa };

std::string_view to_string(KeyType k);  // "RSA", "EC", "Ed25519", "Ed448", "DSA", "unknown"

struct CertificateFacts {
  std::string subject;  // RFC 2253 one-line form, UTF-8 kept as is
  std::string issuer;
  std::vector<std::string> dns_names;  // SAN dNSName entries, as written in the certificate
  SystemTime not_before{};
  SystemTime not_after{};
  std::string spki_sha256;  // lower-case hex SHA-256 of the DER SubjectPublicKeyInfo (TLSA x 1 1)
  std::string cert_sha256;  // lower-case hex SHA-256 of the whole DER certificate (TLSA x 0 1)
  KeyType key_type = KeyType::kUnknown;
  int key_bits = 0;        // RSA modulus size, EC field size
  std::string key_curve;   // EC curve short name (e.g. "prime256v1"), empty otherwise
  std::string serial_hex;  // lower-case hex, "-" prefixed if negative
  bool self_issued = false;  // subject == issuer
};

// The facts, or why the certificate could not be read.
using CertificateInspection = Expected<CertificateFacts, std::string>;

// Certificates larger than this are refused (real ones are 1-4 KiB).
inline constexpr std::size_t kMaxCertificateDerBytes = 64 * 1024;

CertificateInspection inspect_certificate(std::span<const std::uint8_t> der);

// The same facts from a certificate OpenSSL already parsed (e.g. during the handshake); `cert`
// is borrowed. nullptr is an error result.
CertificateInspection inspect_x509(X509* cert);

// A certificate validity time (notBefore, notAfter) as a time point; empty when unreadable.
std::optional<SystemTime> certificate_time(const ASN1_TIME* t);

// Parses DER into an owned X509; nullptr when the bytes are not exactly one certificate.
X509Ptr parse_certificate_der(std::span<const std::uint8_t> der);

}  // namespace mailtls::tls
