#pragma once
// The verdict about one mail domain, as plain data: what the exporter turns into metrics and
// what `check` and /probe print. Made by judge() (judge.h) from what observe_domain() (observe.h)
// saw, the resolver's state and the domain's history.

#include <array>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "probes/base/clock.h"
#include "probes/dane/dane_assessment.h"
#include "probes/dane/rollover_tracker.h"
#include "probes/dns/records.h"
#include "probes/dns/resolver.h"
#include "probes/dns/tlsa_base_domain.h"
#include "probes/mtasts/mtasts_assessment.h"
#include "probes/mtasts/sender_cache_model.h"
#include "probes/mtasts/sts_policy.h"
#include "probes/smtp/starttls_probe.h"

namespace mailtls::domain {

// Why a probe has no verdict about the domain (docs/verdicts.md, precedence: the monitor's own
// faults are never the domain's). Set only by mark_no_verdict() (no_verdict.h).
enum class NoVerdictReason {
  kTimeout,                // the probe did not finish within its timeout
  kResolverUnreachable,    // lookups got no answer, and the resolver answers nothing at all
  kResolverNotValidating,  // the resolver answers, but its DNSSEC self-test fails
};

// A verdict of one kind, or the reason there is none: never a free string. Renderers switch
// over both enums (no default), so the compiler names each of them when a state is added.
using DaneVerdict = std::variant<dane::DaneStatus, NoVerdictReason>;
using MtaStsVerdict = std::variant<mtasts::MtaStsStatus, NoVerdictReason>;
// What `check` and the logs call a verdict: its status's to_string() ("valid", "enforced",
// ...), or "not checked: <why>" (not_checked_status(), no_verdict.h). Defined in no_verdict.cc.
std::string_view to_string(const DaneVerdict& verdict);
std::string_view to_string(const MtaStsVerdict& verdict);

// One DNS RRset the probe depended on, with its DNSSEC state.
struct RrsetStatus {
  std::string name;
  std::string type;  // "MX", "A", "AAAA", "TLSA", "TXT", "CNAME"
  dns::Security security = dns::Security::kIndeterminate;
  dns::Outcome outcome = dns::Outcome::kError;
  std::optional<SystemTime> rrsig_expiry;
  std::string reason;
};

struct CertificateSummary {
  std::string subject;
  std::string issuer;
  std::string spki_sha256;  // lower-case hex
  std::vector<std::string> dns_names;
  SystemTime not_before{};
  SystemTime not_after{};
};

// The SMTP/TLS/DANE outcome at one address of one MX host.
struct AddressReport {
  std::string address;  // IP literal
  std::string family;   // "ipv4" | "ipv6"
  bool connect_ok = false;
  bool starttls_offered = false;
  bool starttls_ok = false;  // handshake completed
  // Seconds per phase reached: connect, banner, ehlo, starttls, tls_handshake.
  std::map<std::string, double> phase_seconds;
  smtp::StarttlsFailure failure_kind = smtp::StarttlsFailure::kNone;
  std::string failure;       // free text for logs and `check`
  std::string tls_version;
  std::string cipher;
  std::optional<CertificateSummary> leaf;
  std::optional<bool> pkix_valid;  // WebPKI chain + name = MX host; empty without a chain
  std::string pkix_result_type;    // RFC 8460 result type when not valid
  // DANE, when the MX has secure TLSA records.
  bool dane_applies = false;
  bool dane_match = false;       // for every key type offered (T14)
  std::string dane_result_type;  // RFC 8460 result type when not matched
  // Every key type (T14). `key_type`: the unrestricted handshake's leaf, "ecdsa" | "rsa" | ""
  // (another type, or no handshake). `other_key_type_offer`: what a second handshake limited
  // to the other type found, "offered" | "not_offered" | "unknown"; "" when not asked (no
  // usable TLSA records, or no first handshake).
  std::string key_type;
  std::string other_key_type_offer;
  // When that answer was kept from an earlier probe (smtp.key_type_recheck_interval): the time
  // it was made. Empty when asked at this probe or not asked.
  std::optional<SystemTime> other_key_type_checked_earlier;
  struct KeyTypeMatch {
    std::string key_type;  // "ecdsa" | "rsa"
    bool dane_match = false;
    std::string dane_result_type;  // RFC 8460 result type when not matched
    std::string spki_sha256;       // of that key type's leaf
    // Per entry of MxReport::tlsa (same order): its data matches this key type's chain. The
    // rollover history (T12) follows each key type's key and records with it.
    std::vector<bool> record_matches;
  };
  // Per key type whose chain was matched against usable records, the unrestricted one first.
  std::vector<KeyTypeMatch> key_types;
};

struct TlsaRecordReport {
  dns::TlsaRecord record;
  bool usable = false;
  std::string unusable_reason;
  std::map<std::string, bool> matches;  // address -> this record matches the chain there
  // Usable, and matches no chain presented at any address (F2, T11): a record for a past or a
  // future key. False when no chain was presented anywhere (nothing to compare with).
  bool stale = false;
};

struct MxReport {
  std::string host;
  std::uint16_t preference = 0;
  bool implicit = false;  // no MX RRset: the domain itself (RFC 5321 §5.1)
  std::string tlsa_base_domain;
  // Does DANE apply to this MX host (RFC 7672 §2.2.3 / docs/verdicts.md T4); rendered by
  // dane_state_name().
  dns::DaneApplicability dane_state = dns::DaneApplicability::kNotApplicableNoTlsa;
  std::optional<SystemTime> tlsa_rrset_first_seen;  // judged from the history (history_verdicts.h)
  std::string tlsa_rrset_digest;                      // identifies this exact RRset
  std::vector<TlsaRecordReport> tlsa;
  int tlsa_usable = 0;
  bool rollover_ready = false;
  dane::RolloverReadiness rollover_reason = dane::RolloverReadiness::kNotApplicable;
  // (usage, selector, matching type) combinations none of whose usable records matches a
  // presented chain (T11: senders may pick that combination), even while DANE authenticates.
  std::vector<dane::TlsaGroup> stale_groups;
  bool renewed_without_tlsa_update = false;  // F1: leaf newer than the TLSA RRset, no match
  // The Original TTL of the TLSA RRset's RRSIG: how long senders cache it (T12).
  std::optional<std::uint32_t> tlsa_original_ttl;
  // Rollover discipline (T12), judged from the history; empty without usable
  // records or without history (check, /probe on a fresh store still get "unknown").
  std::optional<dane::RolloverPhase> rollover_phase;
  std::optional<SystemTime> rollover_safe_to_switch;
  std::string rollover_phase_reason;
  std::vector<AddressReport> addresses;
  std::optional<bool> mtasts_covered;  // empty without a valid policy
};

struct MtaStsReport {
  bool checked = false;  // the domain's checks include mtasts
  bool txt_present = false;
  bool txt_valid = false;
  std::string txt_id;
  std::string txt_error;
  bool fetch_attempted = false;
  bool fetch_ok = false;
  std::string fetch_error;
  std::string fetch_result_type;  // sts-policy-fetch-error | sts-webpki-invalid | sts-policy-invalid
  bool policy_valid = false;
  std::string policy_error;
  std::optional<mtasts::StsMode> mode;  // empty without a parsed policy
  std::int64_t max_age = 0;
  std::vector<std::string> mx_patterns;
  std::string body_sha256;
  std::optional<SystemTime> policy_cert_not_after;
  std::vector<std::string> warnings;
  // The verdict; NoVerdictReason::kTimeout when timed_out.
  MtaStsVerdict status = mtasts::MtaStsStatus::kNotDeployed;
  // The check did not finish before the probe deadline, or (mode enforce) an MX host's SMTP
  // probe did not: there is no verdict, and the fields above may be partly empty.
  bool timed_out = false;
  // Judged from the history (F6, history_verdicts.h).
  std::optional<SystemTime> id_last_change;
  bool changed_without_id_change = false;
  // Judged from the history: what senders may still hold (P7, B16).
  std::optional<mtasts::SenderCacheStatus> sender_cache_status;
  std::optional<SystemTime> cached_enforce_expiry;
  std::vector<mtasts::CachedMxCoverage> cached_mx_coverage;
  std::string sender_cache_reason;
};

struct TlsRptReport {
  bool checked = false;  // the domain's checks include tlsrpt
  bool timed_out = false;  // the lookup did not finish before the probe deadline (error says so)
  bool present = false;
  bool valid = false;
  std::string error;
  std::vector<std::string> rua;
};

struct DomainReport {
  std::string domain;
  bool probe_success = false;  // the probe ran to the end (not the verdict)
  std::string probe_error;
  // Empty: the verdicts below are the domain's. Set: they are "not checked: ..." (and
  // probe_success is false); what was observed stays for the log and `check`.
  std::optional<NoVerdictReason> no_verdict;
  double duration_seconds = 0;
  SystemTime finished{};
  std::vector<RrsetStatus> rrsets;
  bool mx_null = false;  // RFC 7505: accepts no mail
  std::vector<MxReport> mx;
  DaneVerdict dane_status = dane::DaneStatus::kNotDeployed;
  bool dane_partial = false;  // some MX hosts without DANE while others have it (M4)
  MtaStsReport mtasts;
  TlsRptReport tlsrpt;
  std::vector<std::string> log;  // what happened, in order, for /probe?debug=true and `check`
};

// Makes every text of the report printable (probes/base/printable_text.h): SMTP replies, TXT
// records, certificate names and policy text are the peers' bytes. judge() calls it once,
// last, so the exporter, `check` and /probe?debug=true get only text they can print, put in a
// label or a JSON string.
void make_printable(DomainReport& r);

// The states of the mailtls_dane_status and mailtls_mtasts_status state sets, in order.
inline constexpr std::array kDaneStatuses = {
    dane::DaneStatus::kValid, dane::DaneStatus::kDegraded, dane::DaneStatus::kBroken,
    dane::DaneStatus::kNotDeployed, dane::DaneStatus::kBogus};
inline constexpr std::array kMtaStsStatuses = {
    mtasts::MtaStsStatus::kEnforced, mtasts::MtaStsStatus::kTesting,
    mtasts::MtaStsStatus::kDegraded, mtasts::MtaStsStatus::kBroken,
    mtasts::MtaStsStatus::kNotDeployed, mtasts::MtaStsStatus::kInvalid};

// "none" | "usable" | "none_usable" | "insecure" | "lookup_failed": MX host's DANE state as
// `check` shows it.
std::string_view dane_state_name(dns::DaneApplicability d);

}  // namespace mailtls::domain
