#pragma once
// The DomainProber the binary uses: libunbound (validating), TCP + OpenSSL STARTTLS, the
// WebPKI trust store, and libcurl for MTA-STS policies, built from one configuration.

#include <memory>
#include <string>

#include "exporter/runtime/domain_prober.h"

namespace mailtls::exporter {

// When the first DNSSEC self-test of the resolver runs: before make_real_domain_prober returns
// (`check`, which reports at once), or in the background (the server, which must listen at once:
// the self-test can take its whole 5 s timeout; robustness observation O3).
enum class FirstSelfTest { kWait, kInBackground };

// Builds the real prober, or nullptr with a reason (bad trust anchor, unreadable CA file...).
// Runs the resolver's DNSSEC self-test once at creation and again every 10 minutes. Until the
// first one has finished, resolver_validating() is empty and probes note it in their log.
std::shared_ptr<DomainProber> make_real_domain_prober(const Config& config, std::string* error,
                                                      FirstSelfTest first = FirstSelfTest::kWait);

}  // namespace mailtls::exporter
