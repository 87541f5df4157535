#pragma once
// A second, independent DANE decision for the same inputs, made by OpenSSL's own DANE code
// (what Postfix and `openssl s_client -dane_tlsa_rrdata` run), offline: an SSL object holds
// the DANE state (SSL_dane_enable, SSL_dane_tlsa_add), and its SSL_DANE is attached to a plain
// X509_STORE_CTX (X509_STORE_CTX_set0_dane), exactly as the handshake does internally.
// Used to cross-check chain_matcher in tests and available for diagnostics. As the Addendum
// says, OpenSSL does not know the SMTP rules: records unusable for SMTP (PKIX usages, bad
// lengths) are not handed to it, DANE-EE name checks are turned off, partial wildcards are
// refused (OpenSSL's default host flags accept "smtp*.example.com"; RFC 7672 §3.2.3 does not),
// and when no record is left the result is "not authenticated", not OpenSSL's PKIX fallback.

#include <optional>
#include <string>
#include <vector>

#include "probes/base/clock.h"
#include "probes/dns/records.h"
#include "probes/tls/der_chain.h"

namespace mailtls::dane {

struct OpensslDaneVerdict {
  bool authenticated = false;
  int records_added = 0;   // records OpenSSL accepted (SSL_dane_tlsa_add > 0)
  int verify_error = 0;    // X509_V_OK (0) when authenticated
  std::string message;     // X509_verify_cert_error_string, or why nothing was checked
  int matched_depth = -1;  // SSL_get0_dane_authority
  std::optional<dns::TlsaRecord> matched_record;  // SSL_get0_dane_tlsa
};

// `reference_names`: the TLSA base domain first (SSL_dane_enable), then the others
// (SSL_add1_host).
OpensslDaneVerdict verify_with_openssl_dane(const tls::DerChain& chain,
                                            const std::vector<dns::TlsaRecord>& records,
                                            const std::vector<std::string>& reference_names,
                                            SystemTime now);

}  // namespace mailtls::dane
