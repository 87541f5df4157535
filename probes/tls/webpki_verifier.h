#pragma once
// WebPKI validation of a presented chain, the way an MTA-STS sender does it (RFC 8461 §4.2,
// docs/verdicts.md P9): chain to a trusted root (system roots plus configured CAs), the leaf valid
// at the given time and usable for TLS server auth, and a SAN dNSName matching the MX host under
// RFC 6125 rules (wildcard only as the whole left-most label, matching exactly one label; no
// partial wildcards; the subject CN is never consulted).
//
// Thread safety: a WebPkiVerifier is immutable after create(); verify() may be called from many
// threads at once. The X509_STORE is built once and shared read-only (OpenSSL locks its lazy
// by-hash directory lookups internally); each verify() has its own X509_STORE_CTX.

#include <atomic>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "probes/base/clock.h"
#include "probes/tls/chain_memo.h"
#include "probes/tls/der_chain.h"
#include "probes/tls/openssl_ptr.h"
#include "probes/tls/x509_chain.h"

namespace mailtls::tls {

// The RFC 8460 §4.3 result types a WebPKI failure maps to.
enum class WebPkiResultType {
  kOk,
  kCertificateExpired,
  kCertificateHostMismatch,
  kCertificateNotTrusted,
  kValidationFailure,
};

// "ok", "certificate-expired", "certificate-host-mismatch", "certificate-not-trusted",
// "validation-failure": the label values of docs/verdicts.md R7.
std::string_view to_string(WebPkiResultType t);

// Classifies an X509_V_ERR_* code.
WebPkiResultType classify_x509_error(int x509_error);

struct WebPkiVerdict {
  bool ok = false;
  int x509_error = 0;      // X509_V_OK or X509_V_ERR_*
  int error_depth = -1;    // position in the chain of the certificate at fault, if known
  std::string error_text;  // X509_verify_cert_error_string(), or why verification could not run
  WebPkiResultType result_type = WebPkiResultType::kValidationFailure;
};

struct TrustStoreConfig {
  bool use_system_roots = true;             // X509_STORE_set_default_paths (/etc/ssl/certs)
  std::vector<std::string> extra_ca_files;  // PEM files, each may hold several certificates
  std::vector<DerBytes> extra_ca_der;       // in-memory anchors (tests, embedded roots)
};

class WebPkiVerifier {
 public:
  struct Creation {
    std::shared_ptr<const WebPkiVerifier> verifier;  // empty on error
    std::string error;                               // e.g. an unreadable CA file
  };
  static Creation create(const TrustStoreConfig& config);

  // `chain` leaf first as presented; `host` the reference identifier (the MX host name; a
  // trailing dot is ignored). `at` is the verification time, now when empty.
  WebPkiVerdict verify(const X509Chain& chain, std::string_view host,
                       std::optional<SystemTime> at = std::nullopt) const;
  // The same from DER; a certificate that does not parse makes the verdict a validation failure.
  WebPkiVerdict verify(const DerChain& chain, std::string_view host,
                       std::optional<SystemTime> at = std::nullopt) const;

  // verify(chain, host, at), made once per (chain and its copies, this verifier, host, span of
  // time in which no certificate involved starts or ends its validity) and kept with the chain
  // (chain_memo.h): the domains sharing one STARTTLS observation share its verification.
  WebPkiVerdict verify_once(const X509Chain& chain, std::string_view host, SystemTime at) const;

  // Chains verified so far (each X509_verify_cert run), for tests and sizing.
  std::uint64_t verifications() const { return verifications_.load(std::memory_order_relaxed); }

 private:
  explicit WebPkiVerifier(X509StorePtr store);
  // With `span`, also the span around the verification time in which the verdict holds.
  WebPkiVerdict verify_chain(const X509Chain& chain, std::string_view host,
                             std::optional<SystemTime> at, VerdictSpan* span) const;

  X509StorePtr store_;
  std::uint64_t id_;  // tells verifiers apart in a ChainMemo (never reused in a process)
  mutable std::atomic<std::uint64_t> verifications_{0};
};

}  // namespace mailtls::tls
