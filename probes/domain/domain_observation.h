#pragma once
// What one probe of one mail domain observed, nested as a sender meets it: the domain holds its
// MX lookup and its MX hosts, each MX host its address and TLSA lookups and its addresses, each
// address its STARTTLS handshakes. No verdict here: judge() (judge.h) makes them, and the log.
// Filled by observe_domain() (observe.h); tests build it by hand.

#include <optional>
#include <string>
#include <vector>

#include "probes/base/clock.h"
#include "probes/dns/mx_resolution.h"
#include "probes/dns/tlsa_base_domain.h"
#include "probes/domain/policy_checks.h"
#include "probes/smtp/starttls_probe.h"
#include "probes/tls/webpki_verifier.h"

namespace mailtls::domain {

struct AddressObservation {
  dns::HostAddress address;
  // Not probed: a special-purpose address while smtp.probe_special_addresses is off.
  bool skipped_special_purpose = false;
  smtp::StarttlsResult starttls;  // the unrestricted handshake, when not skipped
  bool cut_off = false;           // the probe deadline cut it off: its outcome is unknown
  // The chain checked the WebPKI way for the MX host name (what an MTA-STS sender checks);
  // empty without a chain or when the MX host name is no host name.
  std::optional<tls::WebPkiVerdict> webpki;
  // The handshake limited to the key type the first did not present (T14), where asked: DANE
  // applies with usable records and the first handshake got an ECDSA or RSA leaf.
  std::optional<smtp::StarttlsResult> other_key_type;
  // When that answer comes from an earlier probe (kept for smtp.key_type_recheck_interval while
  // the first handshake presents the same chain, key_type_answers.h): the time it was made.
  // Empty when it was asked at this probe.
  std::optional<SystemTime> other_key_type_checked_earlier;
};

struct MxHostObservation {
  dns::MxRecord mx;  // host and preference
  // Addresses, CNAME, the TLSA base domain and its TLSA RRset (with the RRSIG's Original TTL).
  dns::TlsaBaseDomainResult lookup;
  std::vector<AddressObservation> addresses;  // in the order of lookup.addresses
};

struct DomainObservation {
  std::string domain;
  bool check_dane = true;
  bool check_mtasts = true;
  bool check_tlsrpt = true;
  dns::MxResolution mx;
  std::vector<MxHostObservation> hosts;  // the MX hosts looked up before the deadline, in order
  std::vector<std::string> hosts_not_looked_up;  // the deadline came first
  PolicyLookups policies;  // MTA-STS and TLS-RPT, looked up beside the MX hosts
  bool deadline_expired = false;  // the probe did not finish within its timeout
  double duration_seconds = 0;
  SystemTime finished{};
};

// Every RRset the probe depended on, with its DNSSEC state, in the order asked (the MX RRset,
// each MX host's answers, the MTA-STS and TLS-RPT TXT RRsets that came in time).
std::vector<RrsetStatus> observed_rrsets(const DomainObservation& o);

}  // namespace mailtls::domain
