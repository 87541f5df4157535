#pragma once
// Rollover discipline at one MX host (docs/verdicts.md T12; RFC 7671 §8.1, RFC 7672 §4): senders
// cache the TLSA RRset for its TTL, so a key may be put into service only after the TLSA record
// for it has been visible for 2 x TTL; before that, a sender still holding the previous RRset
// finds no record for the new key and defers the mail, while every check of "now" is green.
//
// Pure: inputs are this probe's observations, the history of earlier probes and now; outputs are
// the phase, the times an operator needs, and the history to keep. No network, no clock.
//
// Rules, first that applies:
//  - switched_too_fast: an address (and key type) started presenting a key whose matching usable
//    record was first seen less than 2 x TTL earlier; it stays so until first seen + 2 x TTL of
//    that record (the time the switch would have been safe), when no cache can hold an RRset
//    without it any more.
//  - unknown: the history cannot say. No Original TTL is known (no RRSIG), no address presented
//    a chain, or a record not in use was already there when the history began (first run, state
//    lost) and 2 x TTL have not passed since: it may be older than we know, or not. Also when a
//    presented key matches no usable record (the DANE verdict says what is wrong). Never
//    reported as ready.
//  - old_record_removable: a usable record that matched a key presented earlier matches none of
//    the keys presented now: the switch is done and the record can go.
//  - next_safe / next_published: a usable record that matches no key presented now and never
//    did (a pre-published next key) has (or has not yet) been visible for 2 x TTL.
//  - steady: every usable record matches a key presented now.
// A key switch is only seen between two probes that both saw a chain at the address; a switch
// whose new record is not matched at all is F1 (renewal_mismatch.h), not a rollover question.
// The TTL used is the larger of this probe's Original TTL and the previous one: senders may still
// hold the RRset under the TTL it was served with.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "probes/base/clock.h"

namespace mailtls::dane {

enum class RolloverPhase {
  kUnknown,
  kSteady,
  kNextPublished,
  kNextSafe,
  kSwitchedTooFast,
  kOldRecordRemovable,
};
std::string_view to_string(RolloverPhase p);  // "unknown", "steady", "next_published", ...
// Every phase name, in the order of the enum (the state set's label values).
const std::vector<std::string>& rollover_phase_names();

// One usable TLSA record as remembered: its presentation ("3 1 1 <hex>") and when it was seen.
struct TlsaRecordSighting {
  std::string record;
  SystemTime first_seen{};
  SystemTime last_seen{};
  std::optional<SystemTime> last_in_use;  // last probe at which a presented key matched it
  bool operator==(const TlsaRecordSighting&) const = default;
};

// The key last presented at one address, per key type ("" while only one type is probed).
struct PresentedKey {
  std::string address;
  std::string key_type;
  std::string spki_sha256;
  SystemTime first_seen{};
  bool operator==(const PresentedKey&) const = default;
};

struct RolloverHistory {
  SystemTime tracking_since{};  // when this history began: records seen then may be older
  std::uint32_t ttl_seconds = 0;  // the last Original TTL seen; 0 unknown
  std::vector<TlsaRecordSighting> records;  // the usable records of the RRset now
  std::vector<PresentedKey> keys;
  std::optional<SystemTime> too_fast_until;  // a switch made too fast is unsafe until then
  bool operator==(const RolloverHistory&) const = default;
};

// What one probe saw at one address: the leaf key and the usable records that match its chain.
struct PresentedChain {
  std::string address;
  std::string key_type;  // "" while only one key type is probed
  std::string spki_sha256;
  std::vector<std::string> matching_records;  // presentations, as in RolloverObservation
};

struct RolloverObservation {
  std::vector<std::string> usable_records;  // presentation of each usable record ("3 1 1 <hex>")
  std::optional<std::uint32_t> original_ttl;  // from the RRSIG over the TLSA RRset
  std::vector<PresentedChain> chains;  // addresses whose handshake produced a chain
};

struct RolloverAssessment {
  RolloverPhase phase = RolloverPhase::kUnknown;
  // First seen + 2 x TTL of the record of the key switched to (switched_too_fast: when the switch
  // would have been safe) or of the next key's record (next_published, next_safe, and unknown
  // when a next record's age is not known: the latest it becomes safe). Empty otherwise.
  std::optional<SystemTime> safe_to_switch;
  std::optional<std::uint32_t> ttl_seconds;  // the TTL the times were computed with
  std::string reason;                        // one line for `check` and the log
  RolloverHistory history;                   // what to keep for the next probe
};

// At most this many presented keys are remembered per MX host (addresses x key types).
inline constexpr std::size_t kMaxRememberedKeys = 64;

RolloverAssessment track_rollover(const std::optional<RolloverHistory>& previous,
                                  const RolloverObservation& observed, SystemTime now);

}  // namespace mailtls::dane
