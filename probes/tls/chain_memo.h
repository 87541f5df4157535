#pragma once
// What is worked out once about one presented chain and kept with it: the leaf's certificate
// facts, and the WebPKI verdicts of the chain per (verifier, host name, span of time). One
// STARTTLS observation is shared by every domain that leads to its endpoint
// (smtp/observation_cache.h); each of those domains asks for the leaf's facts and, with its MX
// host name, for the WebPKI verdict. A hosting provider's MX host name is the same for all its
// domains, so the verification is made once per observation instead of once per domain.
//
// A WebPKI verdict depends on the chain, the trust store (the verifier), the reference host
// name and the verification time. The time matters only through each certificate's validity
// (notBefore, notAfter; no revocation is checked), so a verdict is kept for the span between
// the validity boundaries of the certificates involved (the presented ones and the path the
// verifier built) that enclose the time it was made at, in whole seconds as OpenSSL compares
// them: a time outside that span (an expiry or a notBefore crossed) is verified anew.
//
// Held by X509Chain (x509_chain.h): copies of a chain share one memo, so the memo lives as long
// as the observation it belongs to. Bounded: at most kMaxVerdicts verdicts (host names), the
// oldest given up first. Thread-safe.

#include <cstddef>
#include <cstdint>
#include <ctime>
#include <limits>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "probes/tls/certificate.h"

namespace mailtls::tls {

struct WebPkiVerdict;

// The seconds [from, until) in which a verdict cannot change (time_t, as OpenSSL compares).
struct VerdictSpan {
  std::time_t from = std::numeric_limits<std::time_t>::min();
  std::time_t until = std::numeric_limits<std::time_t>::max();
  bool contains(std::time_t t) const { return from <= t && t < until; }
};

// The span around `at` bounded by the validity of `certs` (notBefore: valid from that second;
// notAfter: valid through that second). A certificate whose dates cannot be read makes the span
// that one second only (verified again at the next).
VerdictSpan verdict_span(const std::vector<X509*>& certs, std::time_t at);

class ChainMemo {
 public:
  static constexpr std::size_t kMaxVerdicts = 32;

  ChainMemo();
  ~ChainMemo();
  ChainMemo(const ChainMemo&) = delete;
  ChainMemo& operator=(const ChainMemo&) = delete;

  // The facts of `leaf`, inspected on the first call; `leaf` must be the chain's leaf.
  const CertificateInspection& leaf_facts(X509* leaf);

  // The verdict kept for (verifier_id, host) whose span contains `at`, if any.
  std::optional<WebPkiVerdict> find_verdict(std::uint64_t verifier_id, std::string_view host,
                                            std::time_t at) const;
  void keep_verdict(std::uint64_t verifier_id, std::string_view host, VerdictSpan span,
                    const WebPkiVerdict& verdict);

 private:
  struct Kept;
  std::once_flag facts_once_;
  std::optional<CertificateInspection> facts_;
  mutable std::mutex mu_;
  std::vector<Kept> verdicts_;  // oldest first
};

}  // namespace mailtls::tls
