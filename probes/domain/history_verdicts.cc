#include "probes/domain/history_verdicts.h"

#include <algorithm>

#include "probes/base/sha256.h"
#include "probes/dane/renewal_mismatch.h"

namespace mailtls::domain {
namespace {

// Only a proven absence of DANE ends an MX host's history; a failed lookup keeps it.
bool dane_proven_absent(dns::DaneApplicability d) {
  return d == dns::DaneApplicability::kNotApplicableNoTlsa ||
         d == dns::DaneApplicability::kNotApplicableInsecure;
}

// F1: the first-seen time of this exact RRset, and whether a leaf certificate issued after it
// appeared fails DANE.
void judge_tlsa_rrset(MxReport& mx, MxHistory& remember, SystemTime now) {
  if (mx.tlsa.empty()) {
    if (dane_proven_absent(mx.dane_state)) remember.tlsa_rrset.reset();
    return;
  }
  mx.tlsa_rrset_digest = tlsa_rrset_digest(mx.tlsa);
  if (!remember.tlsa_rrset || remember.tlsa_rrset->digest != mx.tlsa_rrset_digest) {
    remember.tlsa_rrset = TlsaRrsetSighting{mx.tlsa_rrset_digest, now};
  }
  mx.tlsa_rrset_first_seen = remember.tlsa_rrset->first_seen;
  mx.renewed_without_tlsa_update = false;
  for (const auto& a : mx.addresses) {
    if (a.dane_applies && a.leaf &&
        dane::renewed_after_tlsa_published(mx.tlsa_rrset_first_seen, a.leaf->not_before, a.dane_match)) {
      mx.renewed_without_tlsa_update = true;
    }
  }
}

dane::RolloverObservation rollover_observation(const MxReport& mx) {
  dane::RolloverObservation o;
  o.original_ttl = mx.tlsa_original_ttl;
  for (const auto& t : mx.tlsa) {
    if (t.usable) o.usable_records.push_back(t.record.to_string());
  }
  for (const auto& a : mx.addresses) {
    if (!a.leaf || !a.dane_applies) continue;
    // Every key type a sender may be offered (T14) has a key of its own to roll over: each is
    // followed apart, with the records its chain matches.
    bool per_key_type = false;
    for (const auto& k : a.key_types) {
      if (k.spki_sha256.empty()) continue;
      dane::PresentedChain c{a.address, k.key_type, k.spki_sha256, {}};
      for (size_t i = 0; i < mx.tlsa.size() && i < k.record_matches.size(); ++i) {
        if (mx.tlsa[i].usable && k.record_matches[i]) c.matching_records.push_back(mx.tlsa[i].record.to_string());
      }
      o.chains.push_back(std::move(c));
      per_key_type = true;
    }
    if (per_key_type) continue;
    // A leaf of another key type (neither ECDSA nor RSA): the unrestricted handshake's chain.
    dane::PresentedChain c{a.address, "", a.leaf->spki_sha256, {}};
    for (const auto& t : mx.tlsa) {
      if (!t.usable) continue;
      if (auto it = t.matches.find(a.address); it != t.matches.end() && it->second) {
        c.matching_records.push_back(t.record.to_string());
      }
    }
    o.chains.push_back(std::move(c));
  }
  return o;
}

// T12: the rollover phase from the records and keys seen so far.
void judge_rollover(MxReport& mx, MxHistory& remember, SystemTime now) {
  if (mx.dane_state != dns::DaneApplicability::kDaneAppliesUsable) {
    if (dane_proven_absent(mx.dane_state)) remember.rollover.reset();
    return;
  }
  const auto a = dane::track_rollover(remember.rollover, rollover_observation(mx), now);
  remember.rollover = a.history;
  mx.rollover_phase = a.phase;
  mx.rollover_safe_to_switch = a.safe_to_switch;
  mx.rollover_phase_reason = a.reason;
}

// F6: the (id, body hash) history (probes/mtasts/policy_history.h).
void judge_policy_history(MtaStsReport& s, DomainHistory& remember, SystemTime now) {
  if (!s.txt_valid) return;  // nothing to compare; keep the history for when it comes back
  const auto update = mtasts::update_policy_history(remember.mtasts_policy, s.txt_id,
                                                    s.policy_valid ? s.body_sha256 : "", now);
  remember.mtasts_policy = update.record;
  s.id_last_change = update.record.id_last_change_time;
  s.changed_without_id_change = update.record.changed_without_id_change;
}

mtasts::SenderCacheObservation sender_cache_observation(const DomainReport& r) {
  const auto& s = r.mtasts;
  mtasts::SenderCacheObservation o;
  if (s.txt_valid && s.policy_valid) {
    o.availability = mtasts::PolicyAvailability::kServed;
    o.policy = {s.body_sha256, s.mode.value_or(mtasts::StsMode::kNone), s.max_age, s.mx_patterns,
                {}, {}};
  } else if (s.txt_valid) {
    o.availability = mtasts::PolicyAvailability::kUnreachable;
  } else if (s.status == MtaStsVerdict{mtasts::MtaStsStatus::kBroken}) {
    o.availability = mtasts::PolicyAvailability::kLookupFailed;  // mtasts_assessment rule 1
  } else {
    o.availability = mtasts::PolicyAvailability::kTxtAbsent;
  }
  for (const auto& mx : r.mx) o.mx_hosts.push_back(mx.host);
  return o;
}

// P7: what senders may still hold.
void judge_sender_cache(DomainReport& report, DomainHistory& remember, SystemTime now) {
  auto& s = report.mtasts;
  if (!s.checked || s.timed_out || report.mx_null) return;
  const auto a = mtasts::model_sender_cache(remember.served_policies,
                                            sender_cache_observation(report), now);
  remember.served_policies = a.history;
  s.sender_cache_status = a.status;
  s.cached_enforce_expiry = a.enforce_expiry;
  s.cached_mx_coverage = a.mx_coverage;
  s.sender_cache_reason = a.reason;
}

}  // namespace

std::string tlsa_rrset_digest(const std::vector<TlsaRecordReport>& records) {
  std::vector<std::string> lines;
  for (const auto& r : records) lines.push_back(r.record.to_string());
  std::sort(lines.begin(), lines.end());
  std::string joined;
  for (const auto& l : lines) joined += l + "\n";
  return sha256_hex(joined);
}

DomainHistory judge_history(DomainReport& report, const DomainHistory& history, SystemTime now) {
  DomainHistory remember = history;
  if (!report.probe_success) return remember;
  for (auto& mx : report.mx) {
    MxHistory& h = remember.mx[mx.host];
    judge_tlsa_rrset(mx, h, now);
    judge_rollover(mx, h, now);
    if (h.empty()) remember.mx.erase(mx.host);
  }
  judge_policy_history(report.mtasts, remember, now);
  judge_sender_cache(report, remember, now);
  return remember;
}

}  // namespace mailtls::domain
