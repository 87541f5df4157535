#include "exporter/runtime/domain_history.h"

#include <algorithm>
#include <set>

#include "probes/domain/shared_rollover.h"

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

std::optional<mtasts::StsMode> sts_mode(const std::string& text) {
  for (const auto m : {mtasts::StsMode::kEnforce, mtasts::StsMode::kTesting, mtasts::StsMode::kNone}) {
    if (text == mtasts::to_string(m)) return m;
  }
  return std::nullopt;
}

// --- F1: the TLSA RRset first seen ---

std::optional<domain::TlsaRrsetSighting> tlsa_rrset_from_json(const json& j) {
  const auto first = time_at(j, "first_seen");
  if (!first || text_at(j, "digest").empty()) return std::nullopt;
  return domain::TlsaRrsetSighting{text_at(j, "digest"), *first};
}

json tlsa_rrset_to_json(const domain::TlsaRrsetSighting& s) {
  return {{"digest", s.digest}, {"first_seen", seconds(s.first_seen)}};
}

// --- F6: the MTA-STS (id, content hash) history ---

// A change time that is missing reads as `missing` (the time of the probe that reads it).
std::optional<mtasts::PolicyHistoryRecord> policy_from_json(const json& j, SystemTime missing) {
  if (!j.is_object() || !j.contains("id") || !j["id"].is_string()) return std::nullopt;
  const bool flagged = j.contains("changed_without_id_change") && j["changed_without_id_change"].is_boolean() &&
                       j["changed_without_id_change"].get<bool>();
  return mtasts::PolicyHistoryRecord{text_at(j, "id"), text_at(j, "body_sha256"),
                                     time_at(j, "id_last_change").value_or(missing),
                                     time_at(j, "body_last_change").value_or(missing), flagged};
}

json policy_to_json(const mtasts::PolicyHistoryRecord& rec) {
  return {{"id", rec.id},
          {"body_sha256", rec.body_sha256},
          {"id_last_change", seconds(rec.id_last_change_time)},
          {"body_last_change", seconds(rec.body_last_change_time)},
          {"changed_without_id_change", rec.changed_without_id_change}};
}

std::string mx_key(const std::string& domain, const std::string& mx) { return domain + " " + mx; }

}  // namespace

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
    const auto mode = sts_mode(text_at(p, "mode"));
    if (!mode) continue;
    mtasts::ServedPolicy s{text_at(p, "body_sha256"), *mode,
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
    served.push_back({{"body_sha256", p.body_sha256}, {"mode", std::string(mtasts::to_string(p.mode))}, {"max_age", p.max_age},
                      {"mx", p.mx_patterns}, {"first_served", seconds(p.first_served)},
                      {"last_served", seconds(p.last_served)}});
  }
  return {{"tracking_since", seconds(h.tracking_since)}, {"served_now", h.served_now},
          {"served", std::move(served)}};
}

domain::DomainHistory load_domain_history(const StateStore& state, const std::string& domain,
                                          SystemTime now) {
  domain::DomainHistory h;
  const std::string prefix = domain + " ";
  // Each list is kept in a variable: items() of a temporary would outlive it.
  const auto tlsa = state.entries_with_prefix(kTlsaSection, prefix);
  for (const auto& [key, entry] : tlsa.items()) {
    if (auto s = tlsa_rrset_from_json(entry)) h.mx[key.substr(prefix.size())].tlsa_rrset = *s;
  }
  const auto own = state.entries_with_prefix(kRolloverSection, prefix);
  std::set<std::string> hosts;
  for (const auto& [key, entry] : tlsa.items()) hosts.insert(key.substr(prefix.size()));
  for (const auto& [key, entry] : own.items()) hosts.insert(key.substr(prefix.size()));
  for (const auto& host : hosts) {
    auto shared = rollover_from_json(state.get(kMxRolloverSection, host));
    const auto kept = own.find(mx_key(domain, host));
    auto older = kept == own.end() ? std::nullopt : rollover_from_json(*kept);
    if (shared && older) shared = domain::merge_rollover_views(*older, *shared);
    if (auto r = shared ? shared : older) h.mx[host].rollover = *r;
  }
  h.mtasts_policy = policy_from_json(state.get(kMtaStsSection, domain), now);
  h.served_policies = served_from_json(state.get(kServedPoliciesSection, domain));
  return h;
}

void store_domain_history(StateStore& state, const std::string& domain,
                          const domain::DomainHistory& history) {
  const std::string prefix = domain + " ";
  const auto stored = state.entries_with_prefix(kTlsaSection, prefix);
  for (const auto& [key, entry] : stored.items()) {
    if (!history.mx.count(key.substr(prefix.size()))) state.erase(kTlsaSection, key);
  }
  // The MX hosts whose rollover history this domain had (its F1 entries, as load reads them).
  std::set<std::string> had;
  for (const auto& [key, entry] : stored.items()) had.insert(key.substr(prefix.size()));
  const auto own = state.entries_with_prefix(kRolloverSection, prefix);
  for (const auto& [key, entry] : own.items()) had.insert(key.substr(prefix.size()));
  for (const auto& [host, mx] : history.mx) {
    const std::string key = mx_key(domain, host);
    if (mx.tlsa_rrset) {
      state.put(kTlsaSection, key, tlsa_rrset_to_json(*mx.tlsa_rrset));
    } else {
      state.erase(kTlsaSection, key);
    }
    if (!mx.rollover) continue;
    state.update(kMxRolloverSection, host, [&](const json& entry, const json&) {
      const auto current = rollover_from_json(entry);
      return rollover_to_json(current ? domain::merge_rollover_views(*current, *mx.rollover) : *mx.rollover);
    });
  }
  // Migrated once the shared entries hold them: a save in between never has neither.
  for (const auto& [key, entry] : own.items()) state.erase(kRolloverSection, key);
  for (const auto& host : had) {
    if (const auto it = history.mx.find(host); it != history.mx.end() && it->second.rollover) continue;
    const std::string suffix = " " + host;
    state.update(kMxRolloverSection, host, [&](const json& entry, const json& sections) {
      const auto f1 = sections.find(kTlsaSection);
      if (f1 != sections.end() && f1->is_object()) {
        for (const auto& [key, e] : f1->items()) {
          if (key.ends_with(suffix)) return entry;  // another domain's MX host still
        }
      }
      return json();
    });
  }
  if (history.mtasts_policy) state.put(kMtaStsSection, domain, policy_to_json(*history.mtasts_policy));
  if (history.served_policies) {
    state.put(kServedPoliciesSection, domain, served_to_json(*history.served_policies));
  }
}

}  // namespace mailtls::exporter
