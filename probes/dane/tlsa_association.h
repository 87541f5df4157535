#pragma once
// TLSA certificate association data computed from a certificate (RFC 6698 §2.1.2, §2.1.3;
// docs/verdicts.md T7): selector Cert(0) selects the DER Certificate, SPKI(1) the DER
// SubjectPublicKeyInfo; matching type Full(0) keeps those bytes, SHA2-256(1) and SHA2-512(2)
// digest them.

#include <cstdint>
#include <optional>
#include <span>
#include <vector>

#include "probes/dns/records.h"
#include "probes/tls/der_chain.h"
#include "probes/tls/openssl_ptr.h"

namespace mailtls::dane {

using Bytes = std::vector<std::uint8_t>;

// The selected content of `cert`; empty for an unknown selector or an encoding failure.
Bytes selected_content(X509* cert, std::uint8_t selector);

// Full(0): `content` itself; SHA2-256(1)/SHA2-512(2): its digest; empty for other types.
Bytes association_data(std::span<const std::uint8_t> content, std::uint8_t matching_type);

// The DER SubjectPublicKeyInfo of a key (what selector 1 selects from a certificate with it).
Bytes spki_der(EVP_PKEY* key);

// Whether `r`'s data equals the association data of `cert` for r's selector and matching type.
bool record_matches_certificate(const dns::TlsaRecord& r, X509* cert);

// The record a publisher would put in DNS for this certificate, e.g. the "3 1 1" of the leaf a
// server presents now (shown beside a failed match). Empty when the DER does not parse.
std::optional<dns::TlsaRecord> tlsa_record_for(std::span<const std::uint8_t> cert_der,
                                               std::uint8_t usage, std::uint8_t selector,
                                               std::uint8_t matching_type);

}  // namespace mailtls::dane
