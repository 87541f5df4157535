#include "probes/domain/resolver_outage.h"

#include <openssl/rand.h>

#include "probes/base/hex.h"

namespace mailtls::domain {
namespace {

bool unanswered(dns::Security security, dns::Outcome outcome) {
  return outcome == dns::Outcome::kError && security == dns::Security::kIndeterminate;
}

std::string random_label() {
  unsigned char bytes[8] = {};
  if (RAND_bytes(bytes, sizeof bytes) != 1) {
    // Without randomness the label could be cached; still a valid question.
    return "mailtls-reachability";
  }
  return "mailtls-" + to_hex(bytes);
}

}  // namespace

bool has_unanswered_lookup(const std::vector<RrsetStatus>& rrsets) {
  for (const auto& s : rrsets) {
    if (unanswered(s.security, s.outcome)) return true;
  }
  return false;
}

ResolverReachability check_resolver_answers(dns::Resolver& resolver, std::string_view zone,
                                            Deadline deadline) {
  std::string qname = random_label();
  if (!zone.empty() && zone != ".") {
    qname += ".";
    qname += zone;
  }
  const auto a = resolver.lookup(qname, dns::RrType::kA, deadline);
  ResolverReachability out;
  out.answers = !unanswered(a.security, a.outcome);
  out.detail = "A " + qname + ": " + std::string(dns::to_string(a.outcome));
  if (!a.reason.empty()) out.detail += " (" + a.reason + ")";
  return out;
}

}  // namespace mailtls::domain
