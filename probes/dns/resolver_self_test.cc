#include "probes/dns/resolver_self_test.h"

namespace mailtls::dns {
namespace {

constexpr auto kDnskey = static_cast<RrType>(48);

std::string describe(const Answer& a) {
  std::string s = a.qname.empty() ? "." : a.qname;
  s += " ";
  s += to_string(a.type);
  s += ": ";
  s += to_string(a.security);
  s += " ";
  s += to_string(a.outcome);
  if (!a.reason.empty()) s += " (" + a.reason + ")";
  return s;
}

}  // namespace

ResolverSelfTest run_resolver_self_test(Resolver& resolver, const ResolverConfig& config,
                                        Deadline deadline) {
  ResolverSelfTest out;
  const bool root = config.self_test_secure_name.empty();
  const Answer secure = root ? resolver.lookup(".", kDnskey, deadline)
                             : resolver.lookup(config.self_test_secure_name, RrType::kA, deadline);
  if (secure.security != Security::kSecure || secure.outcome == Outcome::kError) {
    out.reason = "known-signed name did not validate secure: " + describe(secure);
    if (secure.security == Security::kInsecure) {
      out.reason += "; the validator is not armed (no trust anchor covers it?)";
    }
    return out;
  }
  out.reason = describe(secure);
  if (!config.self_test_bogus_name.empty()) {
    const Answer bogus = resolver.lookup(config.self_test_bogus_name, RrType::kA, deadline);
    if (bogus.security != Security::kBogus) {
      out.reason = "known-broken name did not come back bogus: " + describe(bogus);
      return out;
    }
    out.reason += "; " + describe(bogus);
  }
  out.validating = true;
  return out;
}

}  // namespace mailtls::dns
