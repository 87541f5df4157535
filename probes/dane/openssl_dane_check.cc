#include "probes/dane/openssl_dane_check.h"

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509_vfy.h>

#include "probes/dane/tlsa_usability.h"
#include "probes/tls/certificate.h"
#include "probes/tls/openssl_ptr.h"

namespace mailtls::dane {

OpensslDaneVerdict verify_with_openssl_dane(const tls::DerChain& chain,
                                            const std::vector<dns::TlsaRecord>& records,
                                            const std::vector<std::string>& reference_names,
                                            SystemTime now) {
  OpensslDaneVerdict out;
  auto fail = [&](std::string why) {
    ERR_clear_error();
    out.message = std::move(why);
    return out;
  };
  if (chain.empty()) return fail("no certificate presented");
  std::vector<X509Ptr> certs;
  for (const auto& der : chain) {
    X509Ptr c = tls::parse_certificate_der(der);
    if (!c) break;
    certs.push_back(std::move(c));
  }
  if (certs.empty()) return fail("the leaf certificate does not parse");

  SslCtxPtr ssl_ctx(SSL_CTX_new(TLS_client_method()));
  if (!ssl_ctx || SSL_CTX_dane_enable(ssl_ctx.get()) <= 0) return fail("SSL_CTX_dane_enable failed");
  SslPtr ssl(SSL_new(ssl_ctx.get()));
  const std::string base = reference_names.empty() ? std::string() : reference_names.front();
  if (!ssl || SSL_dane_enable(ssl.get(), base.empty() ? nullptr : base.c_str()) <= 0) {
    return fail("SSL_dane_enable failed");
  }
  SSL_dane_set_flags(ssl.get(), DANE_FLAG_NO_DANE_EE_NAMECHECKS);
  // OpenSSL's default host flags accept partial wildcards ("smtp*.example.com");
  // RFC 7672 §3.2.3 does not.
  SSL_set_hostflags(ssl.get(), X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS);
  for (size_t i = 1; i < reference_names.size(); ++i) {
    if (!reference_names[i].empty()) SSL_add1_host(ssl.get(), reference_names[i].c_str());
  }
  for (const auto& r : records) {
    if (!tlsa_usable_for_smtp(r)) continue;
    int rc = SSL_dane_tlsa_add(ssl.get(), r.usage, r.selector, r.matching_type, r.data.data(), r.data.size());
    if (rc > 0) ++out.records_added;
  }
  if (out.records_added == 0) return fail("no usable TLSA record: OpenSSL would fall back to PKIX");

  X509StorePtr store(X509_STORE_new());
  X509StackPtr untrusted(sk_X509_new_null());
  X509StoreCtxPtr ctx(X509_STORE_CTX_new());
  if (!store || !untrusted || !ctx) return fail("out of memory");
  for (size_t i = 1; i < certs.size(); ++i) {
    X509_up_ref(certs[i].get());
    if (sk_X509_push(untrusted.get(), certs[i].get()) <= 0) X509_free(certs[i].get());
  }
  // What ssl_verify_cert_chain does: the SSL's parameters (names, DANE flags), server
  // purpose, the DANE state, then our clock.
  if (X509_STORE_CTX_init(ctx.get(), store.get(), certs[0].get(), untrusted.get()) != 1 ||
      X509_STORE_CTX_set_default(ctx.get(), "ssl_server") != 1) {
    return fail("cannot set up verification");
  }
  X509_VERIFY_PARAM* param = X509_STORE_CTX_get0_param(ctx.get());
  X509_VERIFY_PARAM_set1(param, SSL_get0_param(ssl.get()));
  X509_VERIFY_PARAM_set_time(param, std::chrono::system_clock::to_time_t(now));
  X509_STORE_CTX_set0_dane(ctx.get(), SSL_get0_dane(ssl.get()));

  const bool ok = X509_verify_cert(ctx.get()) == 1;
  out.verify_error = X509_STORE_CTX_get_error(ctx.get());
  out.authenticated = ok && out.verify_error == X509_V_OK;
  out.message = X509_verify_cert_error_string(out.verify_error);
  if (out.authenticated) {
    // The match is recorded in the SSL_DANE we lent to the store context.
    uint8_t u = 0, s = 0, m = 0;
    const unsigned char* data = nullptr;
    size_t len = 0;
    out.matched_depth = SSL_get0_dane_tlsa(ssl.get(), &u, &s, &m, &data, &len);
    if (out.matched_depth >= 0 && data != nullptr) {
      out.matched_record = dns::TlsaRecord{u, s, m, std::vector<std::uint8_t>(data, data + len)};
    }
  }
  ERR_clear_error();
  return out;
}

}  // namespace mailtls::dane
