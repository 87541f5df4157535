#pragma once
// The DomainProber the binary uses: libunbound (validating), TCP + OpenSSL STARTTLS, the
// WebPKI trust store, and libcurl for MTA-STS policies, built from one configuration.

#include <memory>
#include <string>

#include "exporter/runtime/domain_prober.h"
#include "probes/smtp/observation_cache.h"

namespace mailtls::exporter {

// When the first DNSSEC self-test of the resolver runs: before make_real_domain_prober returns
// (`check`, which reports at once), or in the background (the server, which must listen at once:
// the self-test can take its whole 5 s timeout; robustness observation O3).
enum class FirstSelfTest { kWait, kInBackground };

// Builds the real prober, or nullptr with a reason (bad trust anchor, unreadable CA file...).
// Runs the resolver's DNSSEC self-test once at creation and again every 10 minutes. Until the
// first one has finished, resolver_validating() is empty and probes note it in their log.
// With smtp.share_observations, domains share STARTTLS observations through a cache of the
// prober's own (emptied by a reload, which builds a new prober), and the answers of the
// key-type-limited handshakes are kept for smtp.key_type_recheck_interval, likewise per prober.
// `sessions` counts the SMTP
// sessions opened and the observations reused; the server passes the same one to every prober
// it builds, so the counts survive reloads (null: a counter of the prober's own).
std::shared_ptr<DomainProber> make_real_domain_prober(
    const Config& config, std::string* error, FirstSelfTest first = FirstSelfTest::kWait,
    std::shared_ptr<smtp::SmtpSessionCounter> sessions = nullptr);

}  // namespace mailtls::exporter
