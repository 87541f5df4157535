#pragma once
// The network half of one probe of one mail domain, in the order a sender works
// (docs/architecture.md, data path): MX, then per MX host the addresses and TLSA records,
// STARTTLS at every address (and, where DANE applies with usable records, once more limited to
// the other key type), the chain checked against the WebPKI, MTA-STS, TLS-RPT. It returns what it
// saw (domain_observation.h); judge() (judge.h) makes the verdicts. Everything is bounded by one
// deadline. The MTA-STS and TLS-RPT lookups run on a thread of their own beside
// the MX/TLSA/SMTP steps (policy_checks.h), so a stalling MX does not starve them. The network
// is reached only through the seams passed in, which must be thread-safe.

#include <chrono>
#include <cstdint>
#include <string>

#include "probes/base/clock.h"
#include "probes/dns/resolver.h"
#include "probes/domain/domain_observation.h"
#include "probes/mtasts/policy_fetcher.h"
#include "probes/smtp/key_type_answers.h"
#include "probes/smtp/observation_cache.h"
#include "probes/smtp/starttls_probe.h"
#include "probes/tls/webpki_verifier.h"

namespace mailtls::domain {

struct DomainProbeSettings {
  std::chrono::milliseconds timeout{30'000};
  std::uint16_t smtp_port = 25;
  bool check_dane = true;
  bool check_mtasts = true;
  bool check_tlsrpt = true;
  // Probe MX addresses in special-purpose ranges (loopback, private, ...). Off by default: a
  // hostile MX record must not turn the exporter into a scanner of internal hosts.
  bool probe_special_addresses = false;
  // How old a STARTTLS observation made for another domain may be to stand for this domain's
  // (its interval); used with DomainProbeSeams::observations.
  std::chrono::milliseconds observation_max_age{0};
};

struct DomainProbeSeams {
  dns::Resolver& resolver;
  const smtp::StarttlsProber& starttls;
  const tls::WebPkiVerifier& webpki;
  mtasts::PolicyFetcher& policy_fetcher;
  const Clock& clock;
  // Observations shared with other domains' probes (observation_cache.h); null: none shared.
  smtp::StarttlsObservationCache* observations = nullptr;
  // Answers of the key-type-limited handshakes (T14) kept between probes (key_type_answers.h);
  // null: asked at every probe.
  smtp::KeyTypeAnswers* key_type_answers = nullptr;
};

DomainObservation observe_domain(const std::string& domain, const DomainProbeSettings& settings,
                                 const DomainProbeSeams& seams);

}  // namespace mailtls::domain
