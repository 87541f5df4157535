#include "exporter/runtime/domain_history.h"

#include <algorithm>
#include <optional>

#include "exporter/runtime/sender_cache_history.h"
#include "probes/dane/renewal_mismatch.h"
#include "probes/mtasts/policy_history.h"
#include "probes/base/sha256.h"

namespace mailtls::exporter {
namespace {

constexpr const char* kTlsaSection = "tlsa_rrsets";
constexpr const char* kMtaStsSection = "mtasts_policies";

double seconds(SystemTime t) { return to_unix_seconds(t); }
SystemTime from_seconds(double s) {
  return SystemTime(std::chrono::duration_cast<SystemTime::duration>(std::chrono::duration<double>(s)));
}

void tlsa_history(domain::DomainReport& report, StateStore& state, SystemTime now) {
  for (auto& mx : report.mx) {
    const std::string key = report.domain + " " + mx.host;
    if (mx.tlsa.empty()) {
      // Only a proven absence clears the history; a failed lookup keeps it.
      if (mx.dane_state == dns::DaneApplicability::kNotApplicableNoTlsa ||
          mx.dane_state == dns::DaneApplicability::kNotApplicableInsecure) {
        state.erase(kTlsaSection, key);
      }
      continue;
    }
    mx.tlsa_rrset_digest = tlsa_rrset_digest(mx.tlsa);
    auto stored = state.get(kTlsaSection, key);
    double first_seen = seconds(now);
    if (stored.is_object() && stored.value("digest", "") == mx.tlsa_rrset_digest &&
        stored.contains("first_seen") && stored["first_seen"].is_number()) {
      first_seen = stored["first_seen"].get<double>();
    } else {
      state.put(kTlsaSection, key, {{"digest", mx.tlsa_rrset_digest}, {"first_seen", first_seen}});
    }
    mx.tlsa_rrset_first_seen = from_seconds(first_seen);
    // F1: a leaf certificate issued after the TLSA RRset appeared, and DANE fails there.
    mx.renewed_without_tlsa_update = false;
    for (const auto& a : mx.addresses) {
      if (a.dane_applies && a.leaf &&
          dane::renewed_after_tlsa_published(mx.tlsa_rrset_first_seen, a.leaf->not_before, a.dane_match)) {
        mx.renewed_without_tlsa_update = true;
      }
    }
  }
}

// The (id, body hash) history itself is probes/mtasts/policy_history.h; here it is stored.
void mtasts_history(domain::DomainReport& report, StateStore& state, SystemTime now) {
  auto& s = report.mtasts;
  if (!s.txt_valid) return;  // nothing to compare; keep the history for when it comes back
  const auto stored = state.get(kMtaStsSection, report.domain);
  std::optional<mtasts::PolicyHistoryRecord> previous;
  if (stored.is_object() && stored.contains("id") && stored["id"].is_string()) {
    previous = mtasts::PolicyHistoryRecord{
        stored["id"].get<std::string>(), stored.value("body_sha256", ""),
        from_seconds(stored.value("id_last_change", seconds(now))),
        from_seconds(stored.value("body_last_change", seconds(now))),
        stored.value("changed_without_id_change", false)};
  }
  const auto update = mtasts::update_policy_history(previous, s.txt_id,
                                                    s.policy_valid ? s.body_sha256 : "", now);
  const auto& rec = update.record;
  state.put(kMtaStsSection, report.domain,
            {{"id", rec.id},
             {"body_sha256", rec.body_sha256},
             {"id_last_change", seconds(rec.id_last_change_time)},
             {"body_last_change", seconds(rec.body_last_change_time)},
             {"changed_without_id_change", rec.changed_without_id_change}});
  s.id_last_change = rec.id_last_change_time;
  s.changed_without_id_change = rec.changed_without_id_change;
}

}  // namespace

std::string tlsa_rrset_digest(const std::vector<domain::TlsaRecordReport>& records) {
  std::vector<std::string> lines;
  for (const auto& r : records) {
    lines.push_back(r.record.to_string());
  }
  std::sort(lines.begin(), lines.end());
  std::string joined;
  for (const auto& l : lines) joined += l + "\n";
  return sha256_hex(joined);
}

void apply_history(domain::DomainReport& report, StateStore& state, SystemTime now) {
  tlsa_history(report, state, now);
  mtasts_history(report, state, now);
  apply_sender_cache_history(report, state, now);
}

void apply_history_read_only(domain::DomainReport& report, const StateStore& state, SystemTime now) {
  // The entries this report reads, copied into a scratch store that the judgement may update.
  StateStore scratch = StateStore::in_memory();
  for (const auto& mx : report.mx) {
    const std::string key = report.domain + " " + mx.host;
    if (auto entry = state.get(kTlsaSection, key); !entry.is_null()) scratch.put(kTlsaSection, key, entry);
  }
  if (auto entry = state.get(kMtaStsSection, report.domain); !entry.is_null()) {
    scratch.put(kMtaStsSection, report.domain, entry);
  }
  copy_sender_cache_history(report, state, scratch);
  apply_history(report, scratch, now);
}

}  // namespace mailtls::exporter
