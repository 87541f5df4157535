#pragma once
// STARTTLS observations shared by the domains that lead to the same endpoint. What a STARTTLS
// probe sees (the chain presented, TLS version and cipher, phase timings, the failure) depends
// only on the address, the port, the SNI name sent (the MX host or TLSA base domain) and what
// the client offers, not on which mail domain led there. A hosting provider points thousands of
// domains at a few MX hosts; probing each domain's MX on its own would open thousands of
// identical sessions per round against the same servers.
//
// The cache keeps one observation per key for at most the shortest max_age any domain asked it
// with (each domain passes its own interval), and lets a probe that finds one in progress wait
// for it instead of opening a second session. A domain never gets the same observation twice:
// its next probe (a round later, or an ad-hoc one at once) makes or waits for a new one, which
// the other domains then share; so each endpoint is observed once per round, and a domain's
// own observations are never older than its previous probe. What is per domain stays per domain: TLSA
// matching, the WebPKI name check and the verdicts are made by each domain's probe from the
// shared observation. Observations cut off by a deadline (connect, banner or later timeouts) are
// not shared: they say more about the prober's deadline than about the server.
//
// Every session it opens passes the AddressGate first (politeness: a bounded number of
// sessions per address and a gap between their starts, address_gate.h).
//
// The cache belongs to one prober: a configuration reload builds a new prober and starts with
// an empty cache, so no observation outlives the configuration it was made under.
// Thread-safe.

#include <chrono>
#include <compare>
#include <condition_variable>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>

#include "probes/base/deadline.h"
#include "probes/smtp/address_gate.h"
#include "probes/smtp/smtp_session_counter.h"
#include "probes/smtp/starttls_probe.h"

namespace mailtls::smtp {

// What determines a STARTTLS observation. `key_type` is the key type the handshake was limited
// to ("ecdsa", "rsa"; "" when it offered every one): the server picks its certificate by it.
struct ObservationKey {
  std::string address;
  std::uint16_t port = 0;
  std::string sni_name;
  std::string key_type;
  auto operator<=>(const ObservationKey&) const = default;
};

class StarttlsObservationCache {
 public:
  using Duration = std::chrono::steady_clock::duration;

  // `counter` may be null (nothing counted).
  explicit StarttlsObservationCache(std::shared_ptr<SmtpSessionCounter> counter = nullptr,
                                    PolitenessSettings politeness = {});

  // The observation of (ip_literal, prober's port, sni_name): one made at most `max_age` ago
  // (and at most the shortest max_age any caller gave for this key) that `requester` has not had
  // yet, one in progress (waited
  // for until `deadline`), or a new probe with `prober`. A max_age of 0 always probes anew.
  // `requester` names the probing domain.
  StarttlsResult observe(const StarttlsProber& prober, const std::string& ip_literal,
                         const std::string& sni_name, Deadline deadline, Duration max_age,
                         const std::string& requester,
                         std::optional<tls::HandshakeKeyType> only = std::nullopt);

  // Entries held (kept and in progress), for tests and sizing.
  std::size_t size() const;

 private:
  struct Entry {
    std::shared_ptr<const StarttlsResult> result;  // null while in progress or after a cut-off
    std::chrono::steady_clock::time_point observed_at{};
    Duration max_age = Duration::max();  // the shortest max_age asked for this key
    std::set<std::string> used_by;  // the domains that had this observation
    bool in_progress = false;
  };

  StarttlsResult probe_and_count(const StarttlsProber& prober, const std::string& ip_literal,
                                 const std::string& sni_name, Deadline deadline,
                                 std::optional<tls::HandshakeKeyType> only);
  void sweep_expired(std::chrono::steady_clock::time_point now);  // mu_ held

  std::shared_ptr<SmtpSessionCounter> counter_;
  AddressGate gate_;
  mutable std::mutex mu_;
  std::condition_variable done_;  // an in-progress observation finished
  std::map<ObservationKey, Entry> entries_;
  std::size_t sweep_at_ = 1024;  // sweep expired entries when the map grows past this
};

// How a probe uses the cache: none (each address probed anew), or `cache` with the probing
// domain's name and `max_age` (its interval).
struct ObservationSharing {
  StarttlsObservationCache* cache = nullptr;
  StarttlsObservationCache::Duration max_age{};
  std::string requester;  // the probing domain
};

// Whether an observation says something about the server rather than about the deadline of
// the probe that made it.
bool shareable(const StarttlsResult& r);

}  // namespace mailtls::smtp
