#include "probes/domain/resolver_outage.h"

#include <openssl/rand.h>

#include "probes/base/hex.h"
#include "probes/domain/no_verdict.h"

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

bool has_unanswered_lookup(const DomainReport& r) {
  for (const auto& s : r.rrsets) {
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

bool mark_resolver_outage(DomainReport& r, dns::Resolver& resolver, std::string_view zone,
                          Deadline deadline) {
  if (!has_unanswered_lookup(r)) return false;
  const auto check = check_resolver_answers(resolver, zone, deadline);
  if (check.answers) {
    r.log.push_back("the resolver answers (" + check.detail +
                    "): the failed lookups are the domain's");
    return false;
  }
  mark_no_verdict(r, NoVerdictReason::kResolverUnreachable,
                  "resolver unreachable: " + check.detail);
  r.log.push_back("the resolver does not answer (" + check.detail +
                  "): no verdict, the failed lookups are the monitor's fault, not the domain's");
  return true;
}

}  // namespace mailtls::domain
