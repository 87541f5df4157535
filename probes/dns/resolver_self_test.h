#pragma once
// docs/verdicts.md D1 and the Addendum: libunbound without a working trust anchor answers every
// question secure=0 bogus=0, indistinguishable from unsigned zones. Before any DNSSEC verdict
// is trusted, a known-signed name must validate secure (and a known-broken one bogus).

#include <string>

#include "probes/base/deadline.h"
#include "probes/dns/resolver.h"
#include "probes/dns/resolver_config.h"

namespace mailtls::dns {

struct ResolverSelfTest {
  bool validating = false;
  std::string reason;  // why not, or what was checked when it passed
};

// Asks config.self_test_secure_name (A; any secure answer, data or proven denial, counts) or,
// when empty, ". DNSKEY", and requires secure; then, when config.self_test_bogus_name is set,
// requires its A lookup to come back bogus.
ResolverSelfTest run_resolver_self_test(Resolver& resolver, const ResolverConfig& config,
                                        Deadline deadline);

}  // namespace mailtls::dns
