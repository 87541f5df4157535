#pragma once
// The DomainProber the binary uses: libunbound (validating), TCP + OpenSSL STARTTLS, the
// WebPKI trust store, and libcurl for MTA-STS policies, built from one configuration.

#include <memory>
#include <string>

#include "exporter/domain_prober.h"

namespace mailtls::exporter {

// Builds the real prober, or nullptr with a reason (bad trust anchor, unreadable CA file...).
// Runs the resolver's DNSSEC self-test once at creation and again every 10 minutes.
std::shared_ptr<DomainProber> make_real_domain_prober(const Config& config, std::string* error);

}  // namespace mailtls::exporter
