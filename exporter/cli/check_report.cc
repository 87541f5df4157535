#include "exporter/cli/check_report.h"

#include <nlohmann/json.hpp>

#include <chrono>
#include <cstdio>
#include <ctime>
#include <sstream>

#include "probes/base/hex.h"
#include "probes/domain/no_verdict.h"

namespace mailtls::exporter {
namespace {

using domain::DomainReport;

struct Style {
  bool color;
  std::string paint(const std::string& s, const char* code) const {
    return color ? std::string("\033[") + code + "m" + s + "\033[0m" : s;
  }
  std::string good(const std::string& s) const { return paint(s, "32"); }
  std::string bad(const std::string& s) const { return paint(s, "31"); }
  std::string warn(const std::string& s) const { return paint(s, "33"); }
  std::string dim(const std::string& s) const { return paint(s, "2"); }
  std::string bold(const std::string& s) const { return paint(s, "1"); }
};

std::string date(SystemTime t) {
  const std::time_t tt = std::chrono::system_clock::to_time_t(t);
  std::tm tm{};
  gmtime_r(&tt, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%d %H:%M UTC", &tm);
  return buf;
}

std::string days_from_now(SystemTime t, SystemTime now) {
  const auto d = std::chrono::duration_cast<std::chrono::hours>(t - now).count() / 24.0;
  char buf[48];
  if (d < 0) {
    std::snprintf(buf, sizeof buf, "%.1f days ago", -d);
  } else {
    std::snprintf(buf, sizeof buf, "in %.1f days", d);
  }
  return buf;
}

// How a verdict reads: good, a warning or bad (no verdict reads bad: nothing was confirmed).
enum class Tone { kGood, kWarn, kBad };

Tone tone(dane::DaneStatus v) {
  switch (v) {
    case dane::DaneStatus::kValid: return Tone::kGood;
    case dane::DaneStatus::kNotDeployed: return Tone::kWarn;
    case dane::DaneStatus::kDegraded:
    case dane::DaneStatus::kBroken:
    case dane::DaneStatus::kBogus: return Tone::kBad;
  }
  return Tone::kBad;
}

Tone tone(mtasts::MtaStsStatus v) {
  switch (v) {
    case mtasts::MtaStsStatus::kEnforced: return Tone::kGood;
    case mtasts::MtaStsStatus::kNotDeployed:
    case mtasts::MtaStsStatus::kTesting: return Tone::kWarn;
    case mtasts::MtaStsStatus::kDegraded:
    case mtasts::MtaStsStatus::kBroken:
    case mtasts::MtaStsStatus::kInvalid: return Tone::kBad;
  }
  return Tone::kBad;
}

template <class Status>
std::string verdict(const Style& s, const std::variant<Status, domain::NoVerdictReason>& v) {
  const std::string text(domain::to_string(v));
  const auto* status = std::get_if<Status>(&v);
  switch (status ? tone(*status) : Tone::kBad) {
    case Tone::kGood: return s.good(text);
    case Tone::kWarn: return s.warn(text);
    case Tone::kBad: return s.bad(text);
  }
  return s.bad(text);
}

// A verdict `check` exits 1 for: a sender enforcing it would not deliver, or not safely.
bool fails(const domain::DaneVerdict& v) {
  const auto* status = std::get_if<dane::DaneStatus>(&v);
  return status && tone(*status) == Tone::kBad;
}
bool fails(const domain::MtaStsVerdict& v) {
  const auto* status = std::get_if<mtasts::MtaStsStatus>(&v);
  return status && tone(*status) == Tone::kBad;
}

std::string mode_name(const std::optional<mtasts::StsMode>& mode) {
  return mode ? std::string(mtasts::to_string(*mode)) : std::string();
}

std::string mark(const Style& s, bool ok) { return ok ? s.good("ok") : s.bad("FAIL"); }

// Why there is no verdict, said so that nobody blames the domain for the monitor's fault.
std::string no_verdict_text(domain::NoVerdictReason reason, const std::string& error) {
  switch (reason) {
    case domain::NoVerdictReason::kTimeout:
      return "no verdict: " + error;
    case domain::NoVerdictReason::kResolverUnreachable:
      return "no verdict: the exporter's resolver does not answer (" + error +
             "); the failed lookups are not the domain's fault";
    case domain::NoVerdictReason::kResolverNotValidating:
      return "no verdict: the exporter's resolver does not validate DNSSEC (" + error +
             "); DANE, MTA-STS and the DNSSEC states are unknown, not the domain's fault";
  }
  return "no verdict: " + error;
}

nlohmann::json resolver_json(const domain::ResolverSelfTestState& resolver) {
  nlohmann::json validating;  // null: the self-test has not finished
  switch (resolver.validation) {
    case domain::ResolverValidation::kNotTested: break;
    case domain::ResolverValidation::kValidating: validating = true; break;
    case domain::ResolverValidation::kNotValidating: validating = false; break;
  }
  return {{"validating", validating}, {"reason", resolver.reason}};
}

}  // namespace

std::string format_check_text(const DomainReport& report, bool color, SystemTime now) {
  // Peer text (banners, TXT records, certificate names) goes to a terminal: an ESC or a
  // newline in it must not drive the terminal or forge lines of this report.
  DomainReport r = report;
  domain::make_printable(r);
  Style s{color};
  std::ostringstream out;
  out << s.bold(r.domain) << "\n";
  if (r.no_verdict) {
    out << "  " << s.bad(no_verdict_text(*r.no_verdict, r.probe_error)) << "\n";
  } else if (!r.probe_success) {
    out << "  " << s.bad("probe failed: " + r.probe_error) << "\n";
  }
  out << "  DANE:    " << verdict(s, r.dane_status) << (r.dane_partial ? s.warn(" (not every MX has DANE)") : "")
      << "\n  MTA-STS: " << verdict(s, r.mtasts.status) << "\n";
  out << "  DNSSEC:\n";
  for (const auto& rr : r.rrsets) {
    std::string state(dns::to_string(rr.security));
    out << "    " << rr.name << " " << rr.type << ": "
        << (rr.security == dns::Security::kSecure ? s.good(state)
            : rr.security == dns::Security::kInsecure ? s.warn(state) : s.bad(state));
    if (rr.rrsig_expiry) out << s.dim(", signatures expire " + days_from_now(*rr.rrsig_expiry, now));
    if (!rr.reason.empty()) out << s.dim(" (" + rr.reason + ")");
    out << "\n";
  }
  if (r.mx_null) out << "  " << s.warn("null MX: the domain accepts no mail") << "\n";
  for (const auto& mx : r.mx) {
    out << "  MX " << mx.preference << " " << s.bold(mx.host) << (mx.implicit ? " (implicit: no MX records)" : "")
        << "\n";
    out << "    TLSA at _25._tcp." << (mx.tlsa_base_domain.empty() ? mx.host : mx.tlsa_base_domain) << ": "
        << domain::dane_state_name(mx.dane_state);
    if (mx.dane_state == dns::DaneApplicability::kDaneAppliesUsable) {
      out << ", rollover " << (mx.rollover_ready ? s.good("ready") : s.warn("not ready"))
          << s.dim(" (" + std::string(dane::to_string(mx.rollover_reason)) + ")");
    }
    out << "\n";
    if (mx.rollover_phase) {
      const std::string phase(dane::to_string(*mx.rollover_phase));
      out << "    rollover phase: "
          << (*mx.rollover_phase == dane::RolloverPhase::kSwitchedTooFast ? s.bad(phase) : phase);
      if (mx.rollover_safe_to_switch) out << ", safe to switch from " << date(*mx.rollover_safe_to_switch);
      if (mx.tlsa_original_ttl) out << s.dim(", TTL " + std::to_string(*mx.tlsa_original_ttl) + " s");
      out << s.dim(" (" + mx.rollover_phase_reason + ")") << "\n";
    }
    if (mx.renewed_without_tlsa_update) {
      out << "    " << s.bad("certificate renewed after the TLSA records were published, and they no longer match: publish the TLSA for the new key") << "\n";
    }
    for (const auto& t : mx.tlsa) {
      bool any = false;
      for (const auto& [addr, m] : t.matches) any = any || m;
      out << "      " << static_cast<int>(t.record.usage) << " " << static_cast<int>(t.record.selector) << " "
          << static_cast<int>(t.record.matching_type) << " " << to_hex(t.record.data) << "  "
          << (!t.usable ? s.warn("unusable: " + t.unusable_reason)
              : any     ? s.good("matches")
              : t.stale ? s.warn("stale: matches no chain presented at any address (an old key, or a next key not in use yet)")
                        : s.warn("matches nothing presented"))
          << "\n";
    }
    if (!mx.stale_groups.empty()) {
      std::string groups;
      for (const auto& g : mx.stale_groups) groups += (groups.empty() ? "" : ", ") + dane::to_string(g);
      out << "    " << s.warn("stale combinations (T11): " + groups) << s.dim(" (none of their records matches a chain presented now)") << "\n";
    }
    if (mx.mtasts_covered) out << "    MTA-STS mx pattern: " << (*mx.mtasts_covered ? s.good("covered") : s.bad("NOT covered")) << "\n";
    for (const auto& a : mx.addresses) {
      out << "    " << a.address << ": connect " << mark(s, a.connect_ok);
      if (a.connect_ok) out << ", STARTTLS " << (a.starttls_offered ? mark(s, a.starttls_ok) : s.bad("not offered"));
      if (!a.tls_version.empty()) out << ", " << a.tls_version << " " << a.cipher;
      if (a.dane_applies) out << ", DANE " << (a.dane_match ? s.good("match") : s.bad("NO MATCH (" + a.dane_result_type + ")"));
      for (const auto& k : a.key_types) {
        if (a.key_types.size() < 2) break;  // one key type: the DANE result above is its own
        out << ", " << k.key_type << " " << (k.dane_match ? s.good("match") : s.bad("NO MATCH (" + k.dane_result_type + ")"));
      }
      if (a.other_key_type_offer == "not_offered") out << ", " << a.key_type << " only";
      if (a.other_key_type_checked_earlier) {
        out << " (other key type as checked " << date(*a.other_key_type_checked_earlier) << ")";
      }
      if (a.pkix_valid) out << ", WebPKI " << (*a.pkix_valid ? s.good("valid") : s.warn("invalid (" + a.pkix_result_type + ")"));
      out << "\n";
      if (!a.failure.empty()) out << "      " << s.bad(a.failure) << "\n";
      if (a.leaf) {
        out << "      certificate " << a.leaf->subject << ", issuer " << a.leaf->issuer << "\n"
            << "      valid " << date(a.leaf->not_before) << " to " << date(a.leaf->not_after) << " ("
            << days_from_now(a.leaf->not_after, now) << "), SPKI SHA-256 " << a.leaf->spki_sha256 << "\n";
      }
    }
  }
  const auto& m = r.mtasts;
  // Absent only when the lookup finished; a lookup the deadline cut off is "not checked".
  out << "  MTA-STS TXT: "
      << (!m.txt_present && m.timed_out ? s.warn(std::string(domain::not_checked_status(domain::NoVerdictReason::kTimeout)))
          : !m.txt_present              ? s.warn("none")
          : m.txt_valid                 ? s.good("valid, id=" + m.txt_id)
                                        : s.bad("invalid: " + m.txt_error))
      << "\n";
  if (m.fetch_attempted) {
    out << "  MTA-STS policy: ";
    if (!m.fetch_ok) out << s.bad("fetch failed: " + m.fetch_error);
    else if (!m.policy_valid) out << s.bad("invalid: " + m.policy_error);
    else out << "mode " << mode_name(m.mode) << ", max_age " << m.max_age << ", mx " << [&] {
      std::string p;
      for (const auto& x : m.mx_patterns) p += (p.empty() ? "" : ", ") + x;
      return p;
    }();
    out << "\n";
    if (m.policy_cert_not_after) out << "    policy host certificate expires " << days_from_now(*m.policy_cert_not_after, now) << "\n";
    if (m.changed_without_id_change) out << "    " << s.bad("policy content changed but the TXT id did not: senders keep the old policy") << "\n";
    for (const auto& w : m.warnings) out << "    " << s.warn(w) << "\n";
  }
  if (m.sender_cache_status) {
    const auto status = *m.sender_cache_status;
    const std::string name(mtasts::to_string(status));
    const bool bad = status == mtasts::SenderCacheStatus::kMxNotCovered ||
                     status == mtasts::SenderCacheStatus::kWithdrawnWithoutNone;
    out << "  MTA-STS in senders' caches: " << (bad ? s.bad(name) : name);
    if (m.cached_enforce_expiry) out << ", last enforce copy expires " << date(*m.cached_enforce_expiry);
    out << s.dim(" (" + m.sender_cache_reason + ")") << "\n";
    for (const auto& c : m.cached_mx_coverage) {
      if (!c.covered) out << "    " << s.bad(c.mx_host + " refused by senders holding an earlier enforce policy") << "\n";
    }
  }
  // A lookup the deadline cut off says nothing about the record: not "no record".
  out << "  TLS-RPT: "
      << (r.tlsrpt.timed_out  ? s.warn(r.tlsrpt.error)
          : !r.tlsrpt.present ? s.warn("no record")
          : r.tlsrpt.valid    ? s.good("valid")
                              : s.bad("invalid: " + r.tlsrpt.error));
  for (const auto& u : r.tlsrpt.rua) out << " " << u;
  out << "\n";
  return out.str();
}

std::string format_check_texts(const std::vector<DomainReport>& reports,
                               const domain::ResolverSelfTestState& resolver, bool color,
                               SystemTime now) {
  std::string out;
  for (const auto& r : reports) out += format_check_text(r, color, now) + "\n";
  if (resolver.validation == domain::ResolverValidation::kNotValidating) {
    out += "the resolver's DNSSEC self-test fails (" + resolver.reason +
           "): no DNSSEC-dependent verdict was given; fix the resolver (exit 2)\n";
  }
  return out;
}

std::string format_check_json(const std::vector<DomainReport>& reports,
                              const domain::ResolverSelfTestState& resolver) {
  nlohmann::json out = nlohmann::json::array();
  auto ts = [](SystemTime t) { return to_unix_seconds(t); };
  for (const auto& report : reports) {
    DomainReport r = report;
    domain::make_printable(r);
    nlohmann::json d = {{"domain", r.domain}, {"probe_success", r.probe_success},
                        {"probe_error", r.probe_error}, {"duration_seconds", r.duration_seconds},
                        {"dane_status", domain::to_string(r.dane_status)}, {"dane_partial", r.dane_partial},
                        {"mtasts_status", domain::to_string(r.mtasts.status)}, {"null_mx", r.mx_null}};
    d["no_verdict"] = r.no_verdict ? nlohmann::json(std::string(domain::to_string(*r.no_verdict)))
                                   : nlohmann::json(nullptr);
    for (const auto& rr : r.rrsets) {
      nlohmann::json j = {{"name", rr.name}, {"type", rr.type}, {"security", std::string(dns::to_string(rr.security))}};
      if (rr.rrsig_expiry) j["rrsig_expiry"] = ts(*rr.rrsig_expiry);
      if (!rr.reason.empty()) j["reason"] = rr.reason;
      d["dnssec"].push_back(j);
    }
    for (const auto& mx : r.mx) {
      nlohmann::json m = {{"host", mx.host}, {"preference", mx.preference}, {"tlsa_base_domain", mx.tlsa_base_domain},
                          {"dane_state", domain::dane_state_name(mx.dane_state)}, {"rollover_ready", mx.rollover_ready},
                          {"renewed_without_tlsa_update", mx.renewed_without_tlsa_update}};
      if (mx.tlsa_rrset_first_seen) m["tlsa_rrset_first_seen"] = ts(*mx.tlsa_rrset_first_seen);
      if (mx.tlsa_original_ttl) m["tlsa_original_ttl"] = *mx.tlsa_original_ttl;
      if (mx.rollover_phase) m["rollover_phase"] = std::string(dane::to_string(*mx.rollover_phase));
      if (mx.rollover_safe_to_switch) m["rollover_safe_to_switch"] = ts(*mx.rollover_safe_to_switch);
      for (const auto& t : mx.tlsa) {
        m["tlsa"].push_back({{"record", t.record.to_string()},
                             {"usable", t.usable}, {"matches", t.matches}, {"stale", t.stale}});
      }
      m["stale_groups"] = nlohmann::json::array();
      for (const auto& g : mx.stale_groups) m["stale_groups"].push_back(dane::to_string(g));
      for (const auto& a : mx.addresses) {
        nlohmann::json aj = {{"address", a.address}, {"connect", a.connect_ok}, {"starttls_offered", a.starttls_offered},
                             {"starttls", a.starttls_ok}, {"tls_version", a.tls_version}, {"phases", a.phase_seconds},
                             {"dane_match", a.dane_applies ? nlohmann::json(a.dane_match) : nlohmann::json(nullptr)},
                             {"failure", a.failure}};
        if (a.pkix_valid) aj["pkix_valid"] = *a.pkix_valid;
        if (!a.key_type.empty()) aj["key_type"] = a.key_type;
        if (!a.other_key_type_offer.empty()) aj["other_key_type"] = a.other_key_type_offer;
        if (a.other_key_type_checked_earlier) aj["other_key_type_checked"] = ts(*a.other_key_type_checked_earlier);
        for (const auto& k : a.key_types) {
          aj["key_types"].push_back({{"key_type", k.key_type}, {"dane_match", k.dane_match},
                                     {"dane_result_type", k.dane_result_type}, {"spki_sha256", k.spki_sha256}});
        }
        if (a.leaf) {
          aj["certificate"] = {{"subject", a.leaf->subject}, {"issuer", a.leaf->issuer},
                               {"not_before", ts(a.leaf->not_before)}, {"not_after", ts(a.leaf->not_after)},
                               {"spki_sha256", a.leaf->spki_sha256}};
        }
        m["addresses"].push_back(aj);
      }
      if (mx.mtasts_covered) m["mtasts_covered"] = *mx.mtasts_covered;
      d["mx"].push_back(m);
    }
    d["mtasts"] = {{"txt_valid", r.mtasts.txt_valid}, {"id", r.mtasts.txt_id}, {"fetch_ok", r.mtasts.fetch_ok},
                   {"fetch_error", r.mtasts.fetch_error}, {"policy_valid", r.mtasts.policy_valid},
                   {"mode", mode_name(r.mtasts.mode)}, {"max_age", r.mtasts.max_age}, {"mx", r.mtasts.mx_patterns},
                   {"changed_without_id_change", r.mtasts.changed_without_id_change}};
    if (r.mtasts.sender_cache_status) {
      nlohmann::json refused = nlohmann::json::array();
      for (const auto& c : r.mtasts.cached_mx_coverage) {
        if (!c.covered) refused.push_back(c.mx_host);
      }
      d["mtasts"]["sender_cache"] = {
          {"status", std::string(mtasts::to_string(*r.mtasts.sender_cache_status))},
          {"enforce_expiry", r.mtasts.cached_enforce_expiry ? nlohmann::json(ts(*r.mtasts.cached_enforce_expiry))
                                                            : nlohmann::json(nullptr)},
          {"mx_not_covered", refused}};
    }
    d["tlsrpt"] = {{"present", r.tlsrpt.present}, {"valid", r.tlsrpt.valid}, {"error", r.tlsrpt.error}, {"rua", r.tlsrpt.rua}};
    out.push_back(d);
  }
  const nlohmann::json doc = {{"resolver", resolver_json(resolver)}, {"domains", out}};
  // make_printable() left only valid UTF-8; replace is the second line of defence (dump()
  // throws on invalid UTF-8, and `check --output=json` aborted on it).
  return doc.dump(2, ' ', false, nlohmann::json::error_handler_t::replace) + "\n";
}

int check_exit_code(const std::vector<DomainReport>& reports) {
  int code = 0;
  for (const auto& r : reports) {
    if (r.no_verdict) {
      switch (*r.no_verdict) {
        case domain::NoVerdictReason::kTimeout:
        case domain::NoVerdictReason::kResolverUnreachable:
        case domain::NoVerdictReason::kResolverNotValidating: return 2;
      }
    }
    if (!r.probe_success) return 2;
    if (fails(r.dane_status) || fails(r.mtasts.status)) code = 1;
  }
  return code;
}

}  // namespace mailtls::exporter
