#pragma once
// The answers of the handshakes limited to one key type (docs/verdicts.md T14), kept per
// endpoint for a bounded time. Whether a server also has an RSA or an ECDSA certificate, and
// which chain it presents with it, changes only when its operator installs, renews or removes a
// certificate; asking it again at every probe costs every probe a second SMTP session. So the
// answer of the limited handshake at an endpoint (address, port, SNI name, key type asked) is
// reused for up to `recheck_interval` (smtp.key_type_recheck_interval), while the first,
// unrestricted handshake stays fresh at every probe, and only while that first handshake
// presents the same chain as when the answer was made: a new leaf or chain at the first
// handshake re-checks the other key type at once. Each reused answer carries the time it was
// made, which the verdict states (judge.cc, `check`).
//
// Only answers that say something about the server are kept: "offered" with its chain and "not
// offered". A limited handshake that failed otherwise (timeout, connection lost) is asked again
// at the next probe. An interval of 0 keeps nothing: every probe asks, as before.
//
// The answers belong to one prober: a configuration reload builds a new prober with an empty
// set. Expired answers are swept when the set grows, so it holds about the endpoints probed
// within one interval. Thread-safe.

#include <chrono>
#include <cstddef>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <vector>

#include "probes/base/clock.h"
#include "probes/base/sha256.h"
#include "probes/smtp/observation_cache.h"
#include "probes/smtp/starttls_probe.h"

namespace mailtls::smtp {

class KeyTypeAnswers {
 public:
  explicit KeyTypeAnswers(std::chrono::milliseconds recheck_interval);

  struct Answer {
    StarttlsResult limited;  // the limited handshake, as observed then
    SystemTime checked_at;   // when it was made
  };

  // The answer kept for `key` (its key_type: the type asked), made at most the interval before
  // `now`, beside a first handshake that presented the same chain as `first` does now.
  std::optional<Answer> find(const ObservationKey& key, const StarttlsResult& first,
                             SystemTime now) const;

  // Keeps `limited`, the answer at `key` made at `checked_at` beside `first`, when it says
  // something about the server (offered or not offered).
  void keep(const ObservationKey& key, const StarttlsResult& first, const StarttlsResult& limited,
            SystemTime checked_at);

  std::chrono::milliseconds recheck_interval() const { return interval_; }
  std::size_t size() const;  // answers held, for tests and sizing

 private:
  struct Entry {
    std::vector<Sha256Digest> first_chain;  // SHA-256 of each certificate the first handshake got
    std::shared_ptr<const StarttlsResult> limited;
    SystemTime checked_at;
  };
  bool fresh(const Entry& e, SystemTime now) const;
  void sweep_expired(SystemTime now);  // mu_ held

  const std::chrono::milliseconds interval_;
  mutable std::mutex mu_;
  std::map<ObservationKey, Entry> entries_;
  std::size_t sweep_at_ = 1024;  // sweep expired answers when the map grows past this
};

}  // namespace mailtls::smtp
