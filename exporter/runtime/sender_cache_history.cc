#include "exporter/runtime/sender_cache_history.h"

#include <algorithm>

#include "probes/base/hex.h"

namespace mailtls::exporter {
namespace {

using nlohmann::json;

double seconds(SystemTime t) { return to_unix_seconds(t); }
SystemTime from_seconds(double s) {
  return SystemTime(std::chrono::duration_cast<SystemTime::duration>(std::chrono::duration<double>(s)));
}

// The state file is ours, but it may be old, edited or damaged: every field is optional and
// type-checked, and lists are cut to the bounds the models keep.
std::optional<SystemTime> time_at(const json& j, const char* key) {
  if (!j.is_object() || !j.contains(key) || !j[key].is_number()) return std::nullopt;
  return from_seconds(j[key].get<double>());
}
std::string text_at(const json& j, const char* key) {
  return j.is_object() && j.contains(key) && j[key].is_string() ? j[key].get<std::string>() : "";
}
const json& list_at(const json& j, const char* key) {
  static const json empty = json::array();
  return j.is_object() && j.contains(key) && j[key].is_array() ? j[key] : empty;
}

std::string mx_key(const domain::DomainReport& r, const domain::MxReport& mx) {
  return r.domain + " " + mx.host;
}

// --- Rollover (T12) ---

std::optional<dane::RolloverHistory> rollover_from_json(const json& j) {
  const auto since = time_at(j, "tracking_since");
  if (!since) return std::nullopt;
  dane::RolloverHistory h;
  h.tracking_since = *since;
  if (j.contains("ttl") && j["ttl"].is_number_unsigned()) {
    h.ttl_seconds = static_cast<std::uint32_t>(std::min<std::uint64_t>(j["ttl"].get<std::uint64_t>(), UINT32_MAX));
  }
  h.too_fast_until = time_at(j, "too_fast_until");
  for (const auto& r : list_at(j, "records")) {
    const auto first = time_at(r, "first_seen");
    const auto last = time_at(r, "last_seen");
    if (!first || !last || text_at(r, "record").empty()) continue;
    h.records.push_back({text_at(r, "record"), *first, *last, time_at(r, "last_in_use")});
  }
  for (const auto& k : list_at(j, "keys")) {
    const auto first = time_at(k, "first_seen");
    if (!first || text_at(k, "address").empty()) continue;
    h.keys.push_back({text_at(k, "address"), text_at(k, "key_type"), text_at(k, "spki_sha256"), *first});
    if (h.keys.size() == dane::kMaxRememberedKeys) break;
  }
  return h;
}

json rollover_to_json(const dane::RolloverHistory& h) {
  json records = json::array();
  for (const auto& r : h.records) {
    json e = {{"record", r.record}, {"first_seen", seconds(r.first_seen)}, {"last_seen", seconds(r.last_seen)}};
    if (r.last_in_use) e["last_in_use"] = seconds(*r.last_in_use);
    records.push_back(std::move(e));
  }
  json keys = json::array();
  for (const auto& k : h.keys) {
    keys.push_back({{"address", k.address}, {"key_type", k.key_type}, {"spki_sha256", k.spki_sha256},
                    {"first_seen", seconds(k.first_seen)}});
  }
  json j = {{"tracking_since", seconds(h.tracking_since)}, {"ttl", h.ttl_seconds},
            {"records", std::move(records)}, {"keys", std::move(keys)}};
  if (h.too_fast_until) j["too_fast_until"] = seconds(*h.too_fast_until);
  return j;
}

std::string presentation(const dns::TlsaRecord& r) {
  return std::to_string(r.usage) + " " + std::to_string(r.selector) + " " +
         std::to_string(r.matching_type) + " " + to_hex(r.data);
}

dane::RolloverObservation rollover_observation(const domain::MxReport& mx) {
  dane::RolloverObservation o;
  o.original_ttl = mx.tlsa_original_ttl;
  for (const auto& t : mx.tlsa) {
    if (t.usable) o.usable_records.push_back(presentation(t.record));
  }
  for (const auto& a : mx.addresses) {
    if (!a.leaf || !a.dane_applies) continue;
    dane::PresentedChain c{a.address, "", a.leaf->spki_sha256, {}};
    for (const auto& t : mx.tlsa) {
      if (!t.usable) continue;
      if (auto it = t.matches.find(a.address); it != t.matches.end() && it->second) {
        c.matching_records.push_back(presentation(t.record));
      }
    }
    o.chains.push_back(std::move(c));
  }
  return o;
}

void rollover_history(domain::DomainReport& report, StateStore& state, SystemTime now) {
  for (auto& mx : report.mx) {
    const std::string key = mx_key(report, mx);
    if (mx.dane_state != dns::DaneApplicability::kDaneAppliesUsable) {
      // Only a proven absence ends the history; a failed lookup keeps it.
      if (mx.dane_state == dns::DaneApplicability::kNotApplicableNoTlsa ||
          mx.dane_state == dns::DaneApplicability::kNotApplicableInsecure) {
        state.erase(kRolloverSection, key);
      }
      continue;
    }
    const auto a = dane::track_rollover(rollover_from_json(state.get(kRolloverSection, key)),
                                        rollover_observation(mx), now);
    state.put(kRolloverSection, key, rollover_to_json(a.history));
    mx.rollover_phase = a.phase;
    mx.rollover_safe_to_switch = a.safe_to_switch;
    mx.rollover_phase_reason = a.reason;
  }
}

// --- MTA-STS sender cache (P7) ---

std::optional<mtasts::SenderCacheHistory> served_from_json(const json& j) {
  const auto since = time_at(j, "tracking_since");
  if (!since) return std::nullopt;
  mtasts::SenderCacheHistory h;
  h.tracking_since = *since;
  h.served_now = text_at(j, "served_now");
  for (const auto& p : list_at(j, "served")) {
    const auto first = time_at(p, "first_served");
    const auto last = time_at(p, "last_served");
    if (!first || !last || text_at(p, "body_sha256").empty() || !p.contains("max_age") ||
        !p["max_age"].is_number_integer()) {
      continue;
    }
    mtasts::ServedPolicy s{text_at(p, "body_sha256"), text_at(p, "mode"),
                           std::clamp<std::int64_t>(p["max_age"].get<std::int64_t>(), 0, 31557600),
                           {}, *first, *last};
    for (const auto& m : list_at(p, "mx")) {
      if (m.is_string()) s.mx_patterns.push_back(m.get<std::string>());
    }
    h.served.push_back(std::move(s));
    if (h.served.size() == mtasts::kMaxRememberedPolicies) break;
  }
  return h;
}

json served_to_json(const mtasts::SenderCacheHistory& h) {
  json served = json::array();
  for (const auto& p : h.served) {
    served.push_back({{"body_sha256", p.body_sha256}, {"mode", p.mode}, {"max_age", p.max_age},
                      {"mx", p.mx_patterns}, {"first_served", seconds(p.first_served)},
                      {"last_served", seconds(p.last_served)}});
  }
  return {{"tracking_since", seconds(h.tracking_since)}, {"served_now", h.served_now},
          {"served", std::move(served)}};
}

mtasts::SenderCacheObservation sender_cache_observation(const domain::DomainReport& r) {
  const auto& s = r.mtasts;
  mtasts::SenderCacheObservation o;
  if (s.txt_valid && s.policy_valid) {
    o.availability = mtasts::PolicyAvailability::kServed;
    o.policy = {s.body_sha256, s.mode ? std::string(mtasts::to_string(*s.mode)) : "", s.max_age,
                s.mx_patterns, {}, {}};
  } else if (s.txt_valid) {
    o.availability = mtasts::PolicyAvailability::kUnreachable;
  } else if (s.status == domain::MtaStsVerdict{mtasts::MtaStsStatus::kBroken}) {  // the TXT lookup itself failed (mtasts_assessment rule 1)
    o.availability = mtasts::PolicyAvailability::kLookupFailed;
  } else {
    o.availability = mtasts::PolicyAvailability::kTxtAbsent;
  }
  for (const auto& mx : r.mx) o.mx_hosts.push_back(mx.host);
  return o;
}

void served_policies_history(domain::DomainReport& report, StateStore& state, SystemTime now) {
  auto& s = report.mtasts;
  if (!s.checked || s.timed_out || report.mx_null) return;
  const auto a = mtasts::model_sender_cache(served_from_json(state.get(kServedPoliciesSection, report.domain)),
                                            sender_cache_observation(report), now);
  state.put(kServedPoliciesSection, report.domain, served_to_json(a.history));
  s.sender_cache_status = a.status;
  s.cached_enforce_expiry = a.enforce_expiry;
  s.cached_mx_coverage = a.mx_coverage;
  s.sender_cache_reason = a.reason;
}

}  // namespace

void apply_sender_cache_history(domain::DomainReport& report, StateStore& state, SystemTime now) {
  rollover_history(report, state, now);
  served_policies_history(report, state, now);
}

void copy_sender_cache_history(const domain::DomainReport& report, const StateStore& from,
                               StateStore& to) {
  for (const auto& mx : report.mx) {
    const std::string key = mx_key(report, mx);
    if (auto entry = from.get(kRolloverSection, key); !entry.is_null()) to.put(kRolloverSection, key, entry);
  }
  if (auto entry = from.get(kServedPoliciesSection, report.domain); !entry.is_null()) {
    to.put(kServedPoliciesSection, report.domain, entry);
  }
}

}  // namespace mailtls::exporter
