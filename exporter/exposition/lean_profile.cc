#include "exporter/exposition/lean_profile.h"

#include <algorithm>
#include <set>
#include <string>
#include <variant>

namespace mailtls::exporter {
namespace {

using domain::DomainReport;

bool good(const domain::DaneVerdict& v) {
  const auto* s = std::get_if<dane::DaneStatus>(&v);
  if (!s) return false;
  switch (*s) {
    case dane::DaneStatus::kValid:
    case dane::DaneStatus::kNotDeployed: return true;
    case dane::DaneStatus::kDegraded:
    case dane::DaneStatus::kBroken:
    case dane::DaneStatus::kBogus: return false;
  }
  return false;
}

bool good(const domain::MtaStsVerdict& v) {
  const auto* s = std::get_if<mtasts::MtaStsStatus>(&v);
  if (!s) return false;
  switch (*s) {
    case mtasts::MtaStsStatus::kEnforced:
    case mtasts::MtaStsStatus::kTesting:
    case mtasts::MtaStsStatus::kNotDeployed: return true;
    case mtasts::MtaStsStatus::kDegraded:
    case mtasts::MtaStsStatus::kBroken:
    case mtasts::MtaStsStatus::kInvalid: return false;
  }
  return false;
}

bool good(mtasts::SenderCacheStatus s) {
  switch (s) {
    case mtasts::SenderCacheStatus::kUnknown:
    case mtasts::SenderCacheStatus::kNoEnforceCached:
    case mtasts::SenderCacheStatus::kEnforceCached: return true;
    case mtasts::SenderCacheStatus::kMxNotCovered:
    case mtasts::SenderCacheStatus::kWithdrawnWithoutNone:
    case mtasts::SenderCacheStatus::kDowngraded: return false;
  }
  return false;
}

bool good(dane::RolloverPhase p) {
  switch (p) {
    case dane::RolloverPhase::kUnknown:
    case dane::RolloverPhase::kSteady:
    case dane::RolloverPhase::kNextPublished:
    case dane::RolloverPhase::kNextSafe:
    case dane::RolloverPhase::kOldRecordRemovable: return true;
    case dane::RolloverPhase::kSwitchedTooFast: return false;
  }
  return false;
}

bool good(const domain::AddressReport& a) {
  if (!a.connect_ok || !a.starttls_ok) return false;
  if (a.dane_applies && !a.dane_match) return false;
  return std::all_of(a.key_types.begin(), a.key_types.end(),
                     [](const auto& k) { return k.dane_match; });
}

// At most one TLSA record matches at no address: a pre-published next key is fine, two or more
// are stale (F2, MailTLSStaleTlsaRecords).
bool no_stale_records(const domain::MxReport& mx) {
  int unmatched = 0;
  for (const auto& t : mx.tlsa) {
    if (t.matches.empty()) continue;
    const bool matched = std::any_of(t.matches.begin(), t.matches.end(),
                                     [](const auto& m) { return m.second; });
    if (!matched) ++unmatched;
  }
  return unmatched <= 1;
}

bool good(const domain::MxReport& mx) {
  if (mx.renewed_without_tlsa_update) return false;
  if (mx.rollover_phase && !good(*mx.rollover_phase)) return false;
  if (mx.mtasts_covered && !*mx.mtasts_covered) return false;
  if (!no_stale_records(mx)) return false;
  return std::all_of(mx.addresses.begin(), mx.addresses.end(),
                     [](const auto& a) { return good(a); });
}

bool good(const domain::MtaStsReport& s) {
  if (!s.checked) return true;
  if (s.timed_out || !good(s.status)) return false;
  if (s.fetch_attempted && (!s.fetch_ok || !s.policy_valid)) return false;
  if (s.changed_without_id_change) return false;
  if (s.sender_cache_status && !good(*s.sender_cache_status)) return false;
  return std::all_of(s.cached_mx_coverage.begin(), s.cached_mx_coverage.end(),
                     [](const auto& c) { return c.covered; });
}

// State sets: only the current state is kept.
const std::set<std::string, std::less<>> kStateSets = {
    "mailtls_dane_status", "mailtls_mtasts_status", "mailtls_mtasts_sender_cache_status",
    "mailtls_dane_rollover_phase"};

// What a domain without anything wrong keeps (docs/metrics.md, "Profiles"): the verdicts, the
// probe envelope, and the times the warning alerts compare with their thresholds.
const std::set<std::string, std::less<>> kLeanFamilies = {
    "mailtls_probe_success",
    "mailtls_probe_no_verdict",
    "mailtls_probe_duration_seconds",
    "mailtls_probe_timestamp_seconds",
    "mailtls_mx_info",
    "mailtls_dane_status",
    "mailtls_mtasts_status",
    "mailtls_mtasts_sender_cache_status",
    "mailtls_dane_rollover_phase",
    "mailtls_dane_rollover_ready",
    "mailtls_dane_rollover_safe_to_switch_timestamp_seconds",
    "mailtls_dnssec_signature_expiry_timestamp_seconds",
    "mailtls_cert_not_after_timestamp_seconds",
    "mailtls_cert_pkix_valid",
    "mailtls_smtp_phase_duration_seconds",
    "mailtls_mtasts_policy_info",
    "mailtls_mtasts_policy_cert_not_after_timestamp_seconds",
    "mailtls_tlsrpt_record_valid",
};

std::string label(const prometheus::ClientMetric& m, std::string_view name) {
  for (const auto& l : m.label) {
    if (l.name == name) return l.value;
  }
  return {};
}

template <class Keep>
void keep_only(prometheus::MetricFamily& f, Keep keep) {
  auto& ms = f.metric;
  ms.erase(std::remove_if(ms.begin(), ms.end(), [&](const auto& m) { return !keep(m); }), ms.end());
}

// The summaries of a domain without anything wrong.
void summarise(prometheus::MetricFamily& f) {
  if (f.name == "mailtls_dnssec_signature_expiry_timestamp_seconds" && !f.metric.empty()) {
    // The earliest expiry: the first RRSIG of the domain to run out, and what the expiry
    // alerts compare with their thresholds. Ties keep the first in probe order.
    const auto earliest = std::min_element(
        f.metric.begin(), f.metric.end(),
        [](const auto& a, const auto& b) { return a.gauge.value < b.gauge.value; });
    f.metric = {*earliest};
  } else if (f.name == "mailtls_smtp_phase_duration_seconds") {
    keep_only(f, [](const auto& m) { return label(m, "phase") == "tls_handshake"; });
  }
}

}  // namespace

bool needs_detail(const DomainReport& r) {
  if (r.no_verdict || !good(r.dane_status) || !good(r.mtasts)) return true;
  for (const auto& rr : r.rrsets) {
    if (rr.security == dns::Security::kBogus) return true;
  }
  return !std::all_of(r.mx.begin(), r.mx.end(), [](const auto& mx) { return good(mx); });
}

bool lean_family(std::string_view name) { return kLeanFamilies.count(name) > 0; }

std::vector<prometheus::MetricFamily> lean_families(std::vector<prometheus::MetricFamily> full,
                                                    const DomainReport& report) {
  const bool detail = needs_detail(report);
  std::vector<prometheus::MetricFamily> out;
  out.reserve(full.size());
  for (auto& f : full) {
    if (kStateSets.count(f.name)) {
      keep_only(f, [](const auto& m) { return m.gauge.value == 1; });
    } else if (!detail) {
      if (!kLeanFamilies.count(f.name)) continue;
      summarise(f);
    }
    if (!f.metric.empty()) out.push_back(std::move(f));
  }
  return out;
}

}  // namespace mailtls::exporter
