#include "probes/tls/webpki_verifier.h"

#include <openssl/err.h>
#include <openssl/x509_vfy.h>

#include "probes/tls/certificate.h"
#include "probes/tls/openssl_errors.h"

namespace mailtls::tls {

namespace {

constexpr std::size_t kMaxChainCertificates = 16;

std::atomic<std::uint64_t> next_verifier_id{1};

WebPkiVerdict cannot_verify(std::string why) {
  WebPkiVerdict v;
  v.x509_error = X509_V_ERR_UNSPECIFIED;
  v.error_text = std::move(why);
  v.result_type = WebPkiResultType::kValidationFailure;
  return v;
}

}  // namespace

std::string_view to_string(WebPkiResultType t) {
  switch (t) {
    case WebPkiResultType::kOk: return "ok";
    case WebPkiResultType::kCertificateExpired: return "certificate-expired";
    case WebPkiResultType::kCertificateHostMismatch: return "certificate-host-mismatch";
    case WebPkiResultType::kCertificateNotTrusted: return "certificate-not-trusted";
    case WebPkiResultType::kValidationFailure: return "validation-failure";
  }
  return "validation-failure";
}

WebPkiResultType classify_x509_error(int e) {
  switch (e) {
    case X509_V_OK: return WebPkiResultType::kOk;
    case X509_V_ERR_CERT_HAS_EXPIRED: return WebPkiResultType::kCertificateExpired;
    case X509_V_ERR_HOSTNAME_MISMATCH: return WebPkiResultType::kCertificateHostMismatch;
    // Untrusted or unknown CA, and errors in the chain itself (docs/verdicts.md R7).
    case X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT:
    case X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY:
    case X509_V_ERR_UNABLE_TO_VERIFY_LEAF_SIGNATURE:
    case X509_V_ERR_DEPTH_ZERO_SELF_SIGNED_CERT:
    case X509_V_ERR_SELF_SIGNED_CERT_IN_CHAIN:
    case X509_V_ERR_CERT_UNTRUSTED:
    case X509_V_ERR_CERT_REJECTED:
    case X509_V_ERR_INVALID_CA:
    case X509_V_ERR_PATH_LENGTH_EXCEEDED:
    case X509_V_ERR_CERT_SIGNATURE_FAILURE:
    case X509_V_ERR_UNABLE_TO_DECRYPT_CERT_SIGNATURE:
    case X509_V_ERR_UNABLE_TO_DECODE_ISSUER_PUBLIC_KEY:
    case X509_V_ERR_CERT_CHAIN_TOO_LONG:
    case X509_V_ERR_INVALID_NON_CA:
    case X509_V_ERR_NO_ISSUER_PUBLIC_KEY:
      return WebPkiResultType::kCertificateNotTrusted;
    default: return WebPkiResultType::kValidationFailure;
  }
}

WebPkiVerifier::WebPkiVerifier(X509StorePtr store)
    : store_(std::move(store)), id_(next_verifier_id.fetch_add(1)) {}

WebPkiVerifier::Creation WebPkiVerifier::create(const TrustStoreConfig& config) {
  Creation out;
  X509StorePtr store(X509_STORE_new());
  if (!store) {
    out.error = "X509_STORE_new failed: " + drain_openssl_errors();
    return out;
  }
  if (config.use_system_roots && X509_STORE_set_default_paths(store.get()) != 1) {
    out.error = "cannot load the system trust store: " + drain_openssl_errors();
    return out;
  }
  for (const auto& file : config.extra_ca_files) {
    if (X509_STORE_load_file(store.get(), file.c_str()) != 1) {
      out.error = "cannot load CA file " + file + ": " + drain_openssl_errors();
      return out;
    }
  }
  for (const auto& der : config.extra_ca_der) {
    X509Ptr ca = parse_certificate_der(der);
    if (!ca || X509_STORE_add_cert(store.get(), ca.get()) != 1) {
      out.error = "cannot add an in-memory CA certificate: " + drain_openssl_errors();
      return out;
    }
  }
  drain_openssl_errors();
  out.verifier = std::shared_ptr<const WebPkiVerifier>(new WebPkiVerifier(std::move(store)));
  return out;
}

WebPkiVerdict WebPkiVerifier::verify(const DerChain& chain, std::string_view host,
                                     std::optional<SystemTime> at) const {
  if (chain.empty()) return cannot_verify("no certificate presented");
  if (chain.size() > kMaxChainCertificates) {
    return cannot_verify("chain of " + std::to_string(chain.size()) + " certificates exceeds " +
                         std::to_string(kMaxChainCertificates));
  }
  const X509Chain parsed = X509Chain::parse(chain);
  if (parsed.empty()) {
    return cannot_verify("leaf certificate does not parse: " + drain_openssl_errors());
  }
  if (parsed.size() < chain.size()) {
    return cannot_verify("chain certificate " + std::to_string(parsed.size()) +
                         " does not parse: " + drain_openssl_errors());
  }
  return verify(parsed, host, at);
}

WebPkiVerdict WebPkiVerifier::verify(const X509Chain& chain, std::string_view host,
                                     std::optional<SystemTime> at) const {
  return verify_chain(chain, host, at, nullptr);
}

WebPkiVerdict WebPkiVerifier::verify_once(const X509Chain& chain, std::string_view host,
                                          SystemTime at) const {
  ChainMemo* memo = chain.memo();
  if (memo == nullptr) return verify(chain, host, at);
  const std::time_t second = std::chrono::system_clock::to_time_t(at);
  if (auto kept = memo->find_verdict(id_, host, second)) return *kept;
  VerdictSpan span;
  WebPkiVerdict v = verify_chain(chain, host, at, &span);
  memo->keep_verdict(id_, host, span, v);
  return v;
}

WebPkiVerdict WebPkiVerifier::verify_chain(const X509Chain& chain, std::string_view host,
                                           std::optional<SystemTime> at, VerdictSpan* span) const {
  if (span) *span = {};  // the checks before verification do not depend on the time
  if (chain.empty()) return cannot_verify("no certificate presented");
  if (chain.size() > kMaxChainCertificates) {
    return cannot_verify("chain of " + std::to_string(chain.size()) + " certificates exceeds " +
                         std::to_string(kMaxChainCertificates));
  }
  X509StackPtr untrusted(sk_X509_new_null());
  if (!untrusted) return cannot_verify("out of memory");
  for (std::size_t i = 1; i < chain.size(); ++i) {
    // The stack owns one reference of its own.
    X509_up_ref(chain[i]);
    if (sk_X509_push(untrusted.get(), chain[i]) <= 0) {
      X509_free(chain[i]);
      return cannot_verify("out of memory");
    }
  }

  X509StoreCtxPtr ctx(X509_STORE_CTX_new());
  if (!ctx || X509_STORE_CTX_init(ctx.get(), store_.get(), chain.leaf(), untrusted.get()) != 1) {
    return cannot_verify("X509_STORE_CTX_init failed: " + drain_openssl_errors());
  }
  X509_VERIFY_PARAM* param = X509_STORE_CTX_get0_param(ctx.get());
  X509_VERIFY_PARAM_set_purpose(param, X509_PURPOSE_SSL_SERVER);
  std::string name(host);
  if (!name.empty() && name.back() == '.') name.pop_back();
  // RFC 6125 as RFC 8461 §4.2 wants it: SAN dNSName only, '*' only as a whole left-most label.
  X509_VERIFY_PARAM_set_hostflags(
      param, X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS | X509_CHECK_FLAG_NEVER_CHECK_SUBJECT);
  if (name.empty() || X509_VERIFY_PARAM_set1_host(param, name.data(), name.size()) != 1) {
    return cannot_verify("invalid reference host name \"" + name + "\"");
  }
  if (at) X509_VERIFY_PARAM_set_time(param, std::chrono::system_clock::to_time_t(*at));

  verifications_.fetch_add(1, std::memory_order_relaxed);
  const int rc = X509_verify_cert(ctx.get());
  if (span) {
    // The presented certificates and the path built (with its trust anchor, when one was found).
    std::vector<X509*> involved;
    for (std::size_t i = 0; i < chain.size(); ++i) involved.push_back(chain[i]);
    if (const STACK_OF(X509)* built = X509_STORE_CTX_get0_chain(ctx.get())) {
      for (int i = 0; i < sk_X509_num(built); ++i) involved.push_back(sk_X509_value(built, i));
    }
    const std::time_t when = at ? std::chrono::system_clock::to_time_t(*at) : std::time(nullptr);
    *span = verdict_span(involved, when);
  }
  WebPkiVerdict v;
  v.x509_error = X509_STORE_CTX_get_error(ctx.get());
  v.error_depth = X509_STORE_CTX_get_error_depth(ctx.get());
  if (rc == 1 && v.x509_error == X509_V_OK) {
    v.ok = true;
    v.error_depth = -1;
    v.result_type = WebPkiResultType::kOk;
    v.error_text = "ok";
  } else {
    if (v.x509_error == X509_V_OK) v.x509_error = X509_V_ERR_UNSPECIFIED;
    v.result_type = classify_x509_error(v.x509_error);
    v.error_text = X509_verify_cert_error_string(v.x509_error);
    if (const std::string extra = drain_openssl_errors(); !extra.empty()) {
      v.error_text += " (" + extra + ")";
    }
  }
  drain_openssl_errors();
  return v;
}

}  // namespace mailtls::tls
