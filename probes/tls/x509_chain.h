#pragma once
// A presented certificate chain as OpenSSL objects, leaf first, in the order the peer sent it.
// The TLS handshake already parsed every certificate; keeping those X509 objects lets the WebPKI
// verifier, the DANE matcher and the certificate inspector read the chain without parsing its
// DER again (in OpenSSL 3 a parse, with its public-key decoder, costs more than the checks).
//
// Copies share the certificates (X509_up_ref), so a copy is cheap and each owner frees its own
// references. Copies also share one ChainMemo (chain_memo.h): what was worked out once about the
// chain (the leaf's facts, WebPKI verdicts) is kept with it for every domain that reads it. Thread safety: an X509 is not modified after parsing except for OpenSSL's lazily
// cached extension data, which it computes under the object's own lock; readers on several
// threads are safe, as with X509 objects in a shared X509_STORE.

#include <cstddef>
#include <memory>
#include <vector>

#include "probes/tls/certificate.h"
#include "probes/tls/der_chain.h"
#include "probes/tls/openssl_ptr.h"

namespace mailtls::tls {

class ChainMemo;

class X509Chain {
 public:
  X509Chain() = default;
  X509Chain(const X509Chain& other);
  X509Chain& operator=(const X509Chain& other);
  X509Chain(X509Chain&&) noexcept = default;
  X509Chain& operator=(X509Chain&&) noexcept = default;
  ~X509Chain() = default;

  // Shares the first `max` certificates of `stack` (one reference each), e.g. the stack of
  // SSL_get_peer_cert_chain(), which on the client side starts with the leaf.
  static X509Chain share(const STACK_OF(X509) * stack, std::size_t max);

  // Parses DER certificates in order and stops at the first element that is not exactly one
  // certificate: what follows a certificate that cannot be read is not used.
  static X509Chain parse(const DerChain& der);

  bool empty() const { return certs_.empty(); }
  std::size_t size() const { return certs_.size(); }
  X509* operator[](std::size_t i) const { return certs_[i].get(); }  // borrowed
  X509* leaf() const { return certs_.empty() ? nullptr : certs_.front().get(); }

  // The leaf's facts (inspect_x509), inspected once for this chain and its copies; an error
  // result for an empty chain. Valid as long as the chain or a copy of it.
  const CertificateInspection& leaf_facts() const;

  // What is kept about this chain and its copies; null for an empty chain.
  ChainMemo* memo() const { return memo_.get(); }

  // The certificates as DER. OpenSSL keeps the encoding it received, so these are the bytes
  // as presented. Costs a copy per certificate: for callers that need bytes, not the hot path.
  DerChain der() const;

 private:
  void start_memo();

  std::vector<X509Ptr> certs_;
  std::shared_ptr<ChainMemo> memo_;  // shared by copies; null while empty
};

}  // namespace mailtls::tls
