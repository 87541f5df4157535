#include "probes/dane/chain_matcher.h"

#include <openssl/x509.h>
#include <openssl/x509_vfy.h>
#include <openssl/x509v3.h>

#include "probes/dane/tlsa_association.h"
#include "probes/tls/certificate.h"
#include "probes/tls/openssl_ptr.h"

namespace mailtls::dane {
namespace {

struct PathResult {
  DaneResultType failure = DaneResultType::kOk;
  std::string message;
};

DaneResultType classify_verify_error(int err) {
  switch (err) {
    case X509_V_ERR_HOSTNAME_MISMATCH: return DaneResultType::kCertificateHostMismatch;
    case X509_V_ERR_CERT_HAS_EXPIRED:
    case X509_V_ERR_CERT_NOT_YET_VALID: return DaneResultType::kCertificateExpired;
    default: return DaneResultType::kValidationFailure;
  }
}

// Path validation from the leaf to `anchor`, which is the only trust anchor. The presented
// certificates other than the leaf and `skip` (the anchor's own index when the server sent it)
// are untrusted intermediates, in whatever order the server sent them.
PathResult validate_to_anchor(const tls::X509Chain& certs, X509* anchor, size_t skip,
                              const std::vector<std::string>& names, SystemTime now) {
  X509StorePtr store(X509_STORE_new());
  X509StackPtr untrusted(sk_X509_new_null());
  X509StoreCtxPtr ctx(X509_STORE_CTX_new());
  if (!store || !untrusted || !ctx || X509_STORE_add_cert(store.get(), anchor) != 1) {
    return {DaneResultType::kValidationFailure, "out of memory"};
  }
  for (size_t i = 1; i < certs.size(); ++i) {
    if (i == skip) continue;
    // sk_X509_push takes the reference; the stack owner frees it.
    X509_up_ref(certs[i]);
    if (sk_X509_push(untrusted.get(), certs[i]) <= 0) X509_free(certs[i]);
  }
  if (X509_STORE_CTX_init(ctx.get(), store.get(), certs.leaf(), untrusted.get()) != 1 ||
      X509_STORE_CTX_set_default(ctx.get(), "ssl_server") != 1) {
    return {DaneResultType::kValidationFailure, "cannot set up path validation"};
  }
  X509_VERIFY_PARAM* param = X509_STORE_CTX_get0_param(ctx.get());
  X509_VERIFY_PARAM_set_flags(param, X509_V_FLAG_PARTIAL_CHAIN);
  X509_VERIFY_PARAM_set_time(param, std::chrono::system_clock::to_time_t(now));
  X509_VERIFY_PARAM_set_hostflags(param, X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS);
  bool first = true;
  for (const auto& n : names) {
    if (n.empty()) continue;
    int ok = first ? X509_VERIFY_PARAM_set1_host(param, n.c_str(), n.size())
                   : X509_VERIFY_PARAM_add1_host(param, n.c_str(), n.size());
    if (ok != 1) return {DaneResultType::kValidationFailure, "bad reference name " + n};
    first = false;
  }
  if (X509_verify_cert(ctx.get()) == 1) return {};
  int err = X509_STORE_CTX_get_error(ctx.get());
  return {classify_verify_error(err), X509_verify_cert_error_string(err)};
}

// A DANE-TA record with matching type Full(0) carries the whole anchor, so the server may
// leave it out (RFC 7671 §5.2.2; OpenSSL and so Postfix accept this). Selector Cert(0): the
// first presented certificate the record's certificate signed; the anchor sits one above it.
// Selector SPKI(1): the first presented certificate whose signature that key verifies, which
// then serves as the anchor. Sets the match's depth and path result; false when no presented
// certificate was signed by the record's key.
bool match_anchor_from_dns(const dns::TlsaRecord& r, const tls::X509Chain& certs,
                           const std::vector<std::string>& names, SystemTime now,
                           TlsaRecordMatch& m) {
  if (r.usage != 2 || r.matching_type != 0 || r.data.empty()) return false;
  X509Ptr anchor;
  EvpPkeyPtr key;
  if (r.selector == 0) {
    anchor = tls::parse_certificate_der(r.data);
    if (!anchor) return false;
    key.reset(X509_get_pubkey(anchor.get()));
  } else {
    const unsigned char* p = r.data.data();
    key.reset(d2i_PUBKEY(nullptr, &p, static_cast<long>(r.data.size())));
    if (key && p != r.data.data() + r.data.size()) key.reset();
  }
  if (!key) return false;
  for (size_t k = 0; k < certs.size(); ++k) {
    if (X509_verify(certs[k], key.get()) != 1) continue;
    PathResult path = anchor ? validate_to_anchor(certs, anchor.get(), certs.size(), names, now)
                             : validate_to_anchor(certs, certs[k], k, names, now);
    m.data_matches = true;
    m.matched_depth = static_cast<int>(anchor ? k + 1 : k);
    m.path_ok = path.failure == DaneResultType::kOk;
    m.failure = path.failure;
    m.message = std::move(path.message);
    return true;
  }
  return false;
}

}  // namespace

ChainMatch match_chain(const tls::DerChain& chain, const std::vector<dns::TlsaRecord>& records,
                       const std::vector<std::string>& reference_names, SystemTime now) {
  const tls::X509Chain certs = tls::X509Chain::parse(chain);
  ChainMatch out = match_chain(certs, records, reference_names, now);
  if (certs.empty() && !chain.empty()) out.message = "the leaf certificate does not parse";
  return out;
}

ChainMatch match_chain(const tls::X509Chain& certs, const std::vector<dns::TlsaRecord>& records,
                       const std::vector<std::string>& reference_names, SystemTime now) {
  ChainMatch out;
  out.records.resize(records.size());
  const auto usability = classify_tlsa_records(records);
  for (size_t i = 0; i < records.size(); ++i) out.records[i].usability = usability[i];

  out.parsed_certificates = static_cast<int>(certs.size());
  if (certs.empty()) {
    out.result_type = DaneResultType::kValidationFailure;
    out.message = "no certificate presented";
    return out;
  }

  DaneResultType ta_failure = DaneResultType::kOk;
  std::string ta_message;
  for (size_t i = 0; i < records.size(); ++i) {
    auto& m = out.records[i];
    const auto& r = records[i];
    if (!m.usability.usable) continue;
    if (r.usage == 3) {
      if (record_matches_certificate(r, certs.leaf())) {
        m.data_matches = true;
        m.matched_depth = 0;
        m.path_ok = true;  // DANE-EE: no name, no expiry (RFC 7672 §3.1.1)
      }
    } else {
      for (size_t k = 1; k < certs.size() && !m.path_ok; ++k) {
        if (!record_matches_certificate(r, certs[k])) continue;
        m.data_matches = true;
        m.matched_depth = static_cast<int>(k);
        PathResult path = validate_to_anchor(certs, certs[k], k, reference_names, now);
        m.path_ok = path.failure == DaneResultType::kOk;
        m.failure = path.failure;
        m.message = std::move(path.message);
      }
      if (!m.data_matches) match_anchor_from_dns(r, certs, reference_names, now, m);
    }
    m.authenticates = m.usability.counts && m.data_matches && m.path_ok;
    if (m.data_matches && !m.usability.counts) out.agility_shadowed_match = true;
    if (m.authenticates && !out.authenticated) {
      out.authenticated = true;
      out.matched_record = i;
    }
    if (m.usability.counts && m.data_matches && !m.path_ok && ta_failure == DaneResultType::kOk) {
      ta_failure = m.failure;
      ta_message = m.message;
    }
  }
  if (out.authenticated) {
    out.result_type = DaneResultType::kOk;
  } else if (ta_failure != DaneResultType::kOk) {
    out.result_type = ta_failure;
    out.message = ta_message;
  } else {
    out.result_type = DaneResultType::kTlsaInvalid;
    out.message = "no matching DANE TLSA records";
  }
  return out;
}

}  // namespace mailtls::dane
