#include "probes/dane/rollover_tracker.h"

#include <algorithm>
#include <chrono>

namespace mailtls::dane {
namespace {

const TlsaRecordSighting* find_record(const std::vector<TlsaRecordSighting>& records,
                                      std::string_view record) {
  for (const auto& r : records) {
    if (r.record == record) return &r;
  }
  return nullptr;
}

std::string seconds_text(std::chrono::seconds s) { return std::to_string(s.count()) + " s"; }

// The records of the RRset now, with first-seen times carried over (a record that left the RRset
// and came back starts again: caches may hold the RRset without it) and in-use times updated.
std::vector<TlsaRecordSighting> update_records(const RolloverHistory& h,
                                               const RolloverObservation& o, SystemTime now) {
  std::vector<TlsaRecordSighting> out;
  for (const auto& rec : o.usable_records) {
    if (find_record(out, rec)) continue;  // the same record twice in the RRset
    TlsaRecordSighting s{rec, now, now, std::nullopt};
    if (const auto* before = find_record(h.records, rec)) {
      s.first_seen = before->first_seen;
      s.last_in_use = before->last_in_use;
    }
    for (const auto& c : o.chains) {
      if (std::find(c.matching_records.begin(), c.matching_records.end(), rec) !=
          c.matching_records.end()) {
        s.last_in_use = now;
      }
    }
    out.push_back(std::move(s));
  }
  return out;
}

// The earliest first-seen time among the current records `chain` matches; empty when none does.
std::optional<SystemTime> oldest_matching_record(const std::vector<TlsaRecordSighting>& records,
                                                 const PresentedChain& chain) {
  std::optional<SystemTime> oldest;
  for (const auto& m : chain.matching_records) {
    if (const auto* r = find_record(records, m); r && (!oldest || r->first_seen < *oldest)) {
      oldest = r->first_seen;
    }
  }
  return oldest;
}

}  // namespace

std::string_view to_string(RolloverPhase p) {
  switch (p) {
    case RolloverPhase::kUnknown: return "unknown";
    case RolloverPhase::kSteady: return "steady";
    case RolloverPhase::kNextPublished: return "next_published";
    case RolloverPhase::kNextSafe: return "next_safe";
    case RolloverPhase::kSwitchedTooFast: return "switched_too_fast";
    case RolloverPhase::kOldRecordRemovable: return "old_record_removable";
  }
  return "unknown";
}

const std::vector<std::string>& rollover_phase_names() {
  static const std::vector<std::string> names = [] {
    std::vector<std::string> v;
    for (auto p : {RolloverPhase::kUnknown, RolloverPhase::kSteady, RolloverPhase::kNextPublished,
                   RolloverPhase::kNextSafe, RolloverPhase::kSwitchedTooFast,
                   RolloverPhase::kOldRecordRemovable}) {
      v.emplace_back(to_string(p));
    }
    return v;
  }();
  return names;
}

RolloverAssessment track_rollover(const std::optional<RolloverHistory>& previous,
                                  const RolloverObservation& observed, SystemTime now) {
  RolloverAssessment a;
  RolloverHistory h = previous.value_or(RolloverHistory{now, 0, {}, {}, std::nullopt});
  const std::uint32_t ttl = std::max(h.ttl_seconds, observed.original_ttl.value_or(0));
  const std::chrono::seconds two_ttl(2 * static_cast<std::int64_t>(ttl));
  if (observed.original_ttl) h.ttl_seconds = *observed.original_ttl;
  h.records = update_records(h, observed, now);
  if (ttl > 0) a.ttl_seconds = ttl;

  // Key switches at each address (and key type): the new key's record must be 2 x TTL old.
  for (const auto& chain : observed.chains) {
    auto it = std::find_if(h.keys.begin(), h.keys.end(), [&](const PresentedKey& k) {
      return k.address == chain.address && k.key_type == chain.key_type;
    });
    if (it == h.keys.end()) {
      h.keys.push_back({chain.address, chain.key_type, chain.spki_sha256, now});
      continue;
    }
    if (it->spki_sha256 == chain.spki_sha256) continue;
    it->spki_sha256 = chain.spki_sha256;
    it->first_seen = now;
    const auto oldest = oldest_matching_record(h.records, chain);
    // No matching record: F1, not a rollover question. A record there when the history began
    // may be older than we know: no warning we cannot stand behind.
    if (!oldest || ttl == 0 || *oldest <= h.tracking_since) continue;
    const SystemTime safe = *oldest + two_ttl;
    if (now < safe && (!h.too_fast_until || *h.too_fast_until < safe)) h.too_fast_until = safe;
  }
  if (h.keys.size() > kMaxRememberedKeys) {
    std::sort(h.keys.begin(), h.keys.end(),
              [](const PresentedKey& x, const PresentedKey& y) { return x.first_seen > y.first_seen; });
    h.keys.resize(kMaxRememberedKeys);
  }

  if (h.too_fast_until && now < *h.too_fast_until) {
    a.phase = RolloverPhase::kSwitchedTooFast;
    a.safe_to_switch = h.too_fast_until;
    a.reason = "a key was put into service before its TLSA record had been visible for 2 x TTL (" +
               seconds_text(two_ttl) + "); senders holding the previous RRset fail until then";
    a.history = std::move(h);
    return a;
  }
  h.too_fast_until.reset();

  // Records no presented key matches: old ones (in use before) and next ones (never in use).
  bool old_record = false;
  std::optional<SystemTime> next_safe_at;
  bool next_age_unknown = false;
  for (const auto& r : h.records) {
    if (r.last_in_use == now) continue;
    if (r.last_in_use) {
      old_record = true;
      continue;
    }
    const SystemTime safe = r.first_seen + two_ttl;
    if (!next_safe_at || safe < *next_safe_at) next_safe_at = safe;
    if (r.first_seen <= h.tracking_since && now < safe) next_age_unknown = true;
  }

  if (ttl == 0) {
    a.phase = RolloverPhase::kUnknown;
    a.reason = "no RRSIG Original TTL known for the TLSA RRset";
  } else if (observed.chains.empty()) {
    a.phase = RolloverPhase::kUnknown;
    a.reason = "no address presented a certificate chain";
  } else if (std::any_of(observed.chains.begin(), observed.chains.end(),
                         [](const PresentedChain& c) { return c.matching_records.empty(); })) {
    a.phase = RolloverPhase::kUnknown;
    a.reason = "a presented key matches no usable TLSA record (see the DANE verdict)";
  } else if (old_record) {
    a.phase = RolloverPhase::kOldRecordRemovable;
    a.reason = "a TLSA record of a key no longer presented can be removed";
  } else if (next_safe_at) {
    a.safe_to_switch = next_safe_at;
    if (next_age_unknown) {
      a.phase = RolloverPhase::kUnknown;
      a.reason = "a next key's TLSA record was already published when the history began; safe "
                 "to switch at the latest 2 x TTL later";
    } else if (now >= *next_safe_at) {
      a.phase = RolloverPhase::kNextSafe;
      a.reason = "the next key's TLSA record has been visible for 2 x TTL (" +
                 seconds_text(two_ttl) + "): the key may be switched";
    } else {
      a.phase = RolloverPhase::kNextPublished;
      a.reason = "the next key's TLSA record is published; switch the key only after 2 x TTL (" +
                 seconds_text(two_ttl) + ")";
    }
  } else {
    a.phase = RolloverPhase::kSteady;
    a.reason = "every usable TLSA record matches a presented key";
  }
  a.history = std::move(h);
  return a;
}

}  // namespace mailtls::dane
