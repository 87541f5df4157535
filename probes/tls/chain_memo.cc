#include "probes/tls/chain_memo.h"

#include <algorithm>

#include "probes/tls/webpki_verifier.h"

namespace mailtls::tls {

struct ChainMemo::Kept {
  std::uint64_t verifier_id = 0;
  std::string host;
  VerdictSpan span;
  WebPkiVerdict verdict;
};

VerdictSpan verdict_span(const std::vector<X509*>& certs, std::time_t at) {
  VerdictSpan span;
  // Each second at which some certificate's validity starts or ends narrows the span.
  const auto bound = [&](std::time_t change) {
    if (change <= at) span.from = std::max(span.from, change);
    else span.until = std::min(span.until, change);
  };
  for (X509* cert : certs) {
    const auto nb = certificate_time(X509_get0_notBefore(cert));
    const auto na = certificate_time(X509_get0_notAfter(cert));
    if (!nb || !na) return {at, at + 1};
    bound(std::chrono::system_clock::to_time_t(*nb));
    const std::time_t last = std::chrono::system_clock::to_time_t(*na);
    if (last < std::numeric_limits<std::time_t>::max()) bound(last + 1);
  }
  return span;
}

ChainMemo::ChainMemo() = default;
ChainMemo::~ChainMemo() = default;

const CertificateInspection& ChainMemo::leaf_facts(X509* leaf) {
  std::call_once(facts_once_, [&] { facts_.emplace(inspect_x509(leaf)); });
  return *facts_;
}

std::optional<WebPkiVerdict> ChainMemo::find_verdict(std::uint64_t verifier_id,
                                                     std::string_view host, std::time_t at) const {
  const std::lock_guard lock(mu_);
  for (const auto& k : verdicts_) {
    if (k.verifier_id == verifier_id && k.host == host && k.span.contains(at)) return k.verdict;
  }
  return std::nullopt;
}

void ChainMemo::keep_verdict(std::uint64_t verifier_id, std::string_view host, VerdictSpan span,
                             const WebPkiVerdict& verdict) {
  const std::lock_guard lock(mu_);
  // A verdict for the same verifier and host from another span is replaced: time moves on.
  std::erase_if(verdicts_, [&](const Kept& k) { return k.verifier_id == verifier_id && k.host == host; });
  if (verdicts_.size() >= kMaxVerdicts) verdicts_.erase(verdicts_.begin());
  verdicts_.push_back({verifier_id, std::string(host), span, verdict});
}

}  // namespace mailtls::tls
