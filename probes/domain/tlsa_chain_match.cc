#include "probes/domain/tlsa_chain_match.h"

#include <openssl/evp.h>
#include <openssl/x509.h>
#include <openssl/x509_vfy.h>

#include <algorithm>
#include <map>

#include "probes/dns/tlsa_base_domain.h"
#include "probes/tls/certificate.h"
#include "probes/tls/openssl_ptr.h"

namespace mailtls::domain {
namespace {

using Bytes = std::vector<std::uint8_t>;

Bytes selected_content(X509* cert, std::uint8_t selector) {
  unsigned char* buf = nullptr;
  int n = selector == 0 ? i2d_X509(cert, &buf) : i2d_X509_PUBKEY(X509_get_X509_PUBKEY(cert), &buf);
  Bytes out;
  if (n > 0 && buf != nullptr) out.assign(buf, buf + n);
  OPENSSL_free(buf);
  return out;
}

Bytes digest(const Bytes& in, std::uint8_t matching_type) {
  if (matching_type == 0) return in;
  const EVP_MD* md = matching_type == 1 ? EVP_sha256() : EVP_sha512();
  unsigned char out[EVP_MAX_MD_SIZE];
  unsigned int n = 0;
  EVP_Digest(in.data(), in.size(), out, &n, md, nullptr);
  return Bytes(out, out + n);
}

bool record_matches_cert(const dns::TlsaRecord& r, X509* cert) {
  return digest(selected_content(cert, r.selector), r.matching_type) == r.data;
}

std::string classify(int err) {
  switch (err) {
    case X509_V_ERR_HOSTNAME_MISMATCH: return "certificate-host-mismatch";
    case X509_V_ERR_CERT_HAS_EXPIRED:
    case X509_V_ERR_CERT_NOT_YET_VALID: return "certificate-expired";
    default: return "validation-failure";
  }
}

// Path validation from the leaf to chain[ta_index], trusting only that certificate.
std::string validate_to_anchor(const std::vector<X509Ptr>& certs, size_t ta_index,
                               const std::vector<std::string>& names, SystemTime now) {
  X509StorePtr store(X509_STORE_new());
  X509_STORE_add_cert(store.get(), certs[ta_index].get());
  X509StackPtr untrusted(sk_X509_new_null());
  for (size_t i = 1; i < ta_index; ++i) {
    X509_up_ref(certs[i].get());
    sk_X509_push(untrusted.get(), certs[i].get());
  }
  X509StoreCtxPtr ctx(X509_STORE_CTX_new());
  if (!X509_STORE_CTX_init(ctx.get(), store.get(), certs[0].get(), untrusted.get())) {
    return "validation-failure";
  }
  X509_VERIFY_PARAM* param = X509_STORE_CTX_get0_param(ctx.get());
  X509_VERIFY_PARAM_set_flags(param, X509_V_FLAG_PARTIAL_CHAIN);
  X509_VERIFY_PARAM_set_time(param, std::chrono::system_clock::to_time_t(now));
  X509_VERIFY_PARAM_set_hostflags(param, X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS);
  bool first = true;
  for (const auto& n : names) {
    if (n.empty()) continue;
    if (first) {
      X509_VERIFY_PARAM_set1_host(param, n.c_str(), n.size());
      first = false;
    } else {
      X509_VERIFY_PARAM_add1_host(param, n.c_str(), n.size());
    }
  }
  if (X509_verify_cert(ctx.get()) == 1) return "";
  return classify(X509_STORE_CTX_get_error(ctx.get()));
}

}  // namespace

ChainMatch match_chain(const tls::DerChain& chain, const std::vector<dns::TlsaRecord>& records,
                       const std::vector<std::string>& reference_names, SystemTime now) {
  ChainMatch out;
  out.records.resize(records.size());
  std::vector<X509Ptr> certs;
  for (const auto& der : chain) {
    auto c = tls::parse_certificate_der(der);
    if (!c) break;  // a chain we cannot parse past this point
    certs.push_back(std::move(c));
  }
  // Digest agility: the strongest matching type present per (usage, selector), among usable.
  std::map<std::pair<int, int>, int> strongest;
  for (size_t i = 0; i < records.size(); ++i) {
    out.records[i].usable = dns::tlsa_record_usable_for_smtp(records[i]);
    if (!out.records[i].usable || records[i].matching_type == 0) continue;
    auto& s = strongest[{records[i].usage, records[i].selector}];
    s = std::max(s, static_cast<int>(records[i].matching_type));
  }
  bool any_data_match = false;
  std::string ta_failure;
  for (size_t i = 0; i < records.size(); ++i) {
    auto& m = out.records[i];
    const auto& r = records[i];
    if (!m.usable) continue;
    auto s = strongest.find({r.usage, r.selector});
    m.counts = r.matching_type == 0 || (s != strongest.end() && s->second == r.matching_type);
    if (certs.empty()) continue;
    if (r.usage == 3) {
      m.data_matches = record_matches_cert(r, certs[0].get());
      m.authenticates = m.data_matches;  // DANE-EE: no name, no expiry (RFC 7672 §3.1.1)
    } else {
      // DANE-TA: the anchor must be in the presented chain (RFC 7672 §3.1.2); a match on the
      // leaf itself is not a trust anchor above it.
      for (size_t k = 1; k < certs.size() && !m.authenticates; ++k) {
        if (!record_matches_cert(r, certs[k].get())) continue;
        m.data_matches = true;
        m.failure = validate_to_anchor(certs, k, reference_names, now);
        m.authenticates = m.failure.empty();
      }
    }
    if (m.counts && m.data_matches) any_data_match = true;
    if (m.counts && m.authenticates) out.authenticated = true;
    if (m.counts && m.data_matches && !m.authenticates && ta_failure.empty()) ta_failure = m.failure;
  }
  if (!out.authenticated) {
    out.result_type = !any_data_match ? "tlsa-invalid" : ta_failure.empty() ? "validation-failure" : ta_failure;
  }
  return out;
}

}  // namespace mailtls::domain
