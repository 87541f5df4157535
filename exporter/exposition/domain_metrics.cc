#include "exporter/exposition/domain_metrics.h"

#include <algorithm>
#include <array>
#include <set>
#include <variant>

#include "exporter/exposition/lean_profile.h"
#include "exporter/exposition/metric_builder.h"
#include "probes/dane/tlsa_presentation.h"
#include "probes/domain/no_verdict.h"

namespace mailtls::exporter {
namespace {

using domain::DomainReport;

double b(bool v) { return v ? 1 : 0; }

// The state set of a verdict: each state's to_string() as the label, 1 for the verdict's.
// Without a verdict every state is 0 (mailtls_probe_no_verdict says why).
template <class Status, size_t N>
void verdict_state_set(MetricBuilder& m, const std::string& name, const std::string& help,
                       const Labels& labels, const std::array<Status, N>& states,
                       const std::variant<Status, domain::NoVerdictReason>& verdict) {
  std::vector<std::string> names;
  for (const auto s : states) names.emplace_back(to_string(s));
  const auto* status = std::get_if<Status>(&verdict);
  m.state_set(name, help, labels, "status", names,
              status ? std::string(to_string(*status)) : std::string());
}

// Whether the MX host has a TLSA RRset to count (secure or not): none when there is none or
// the lookup failed.
bool has_tlsa_rrset(dns::DaneApplicability d) {
  switch (d) {
    case dns::DaneApplicability::kDaneAppliesUsable:
    case dns::DaneApplicability::kDaneAppliesNoneUsable:
    case dns::DaneApplicability::kNotApplicableInsecure: return true;
    case dns::DaneApplicability::kNotApplicableNoTlsa:
    case dns::DaneApplicability::kLookupFailed: return false;
  }
  return false;
}

void dnssec(MetricBuilder& m, const DomainReport& r) {
  for (const auto& rr : r.rrsets) {
    Labels l{{"domain", r.domain}, {"name", rr.name}, {"type", rr.type}};
    m.gauge("mailtls_dnssec_secure", "1 if the RRset validated secure (DNSSEC), 0 if not.", l,
            b(rr.security == dns::Security::kSecure));
    m.gauge("mailtls_dnssec_bogus", "1 if the RRset failed DNSSEC validation (bogus).", l,
            b(rr.security == dns::Security::kBogus));
    if (rr.rrsig_expiry) {
      m.gauge("mailtls_dnssec_signature_expiry_timestamp_seconds",
              "Earliest RRSIG expiration of the RRset, Unix time.", l,
              to_unix_seconds(*rr.rrsig_expiry));
    }
  }
}

void certificate(MetricBuilder& m, const Labels& where, const domain::AddressReport& a) {
  if (!a.tls_version.empty()) {
    Labels l = where;
    l.emplace_back("version", a.tls_version);
    l.emplace_back("cipher", a.cipher);
    m.gauge("mailtls_tls_info", "Negotiated TLS version and cipher at this address.", l, 1);
  }
  if (a.leaf) {
    m.gauge("mailtls_cert_not_before_timestamp_seconds", "Leaf certificate notBefore, Unix time.",
            where, to_unix_seconds(a.leaf->not_before));
    m.gauge("mailtls_cert_not_after_timestamp_seconds", "Leaf certificate notAfter, Unix time.",
            where, to_unix_seconds(a.leaf->not_after));
    Labels l = where;
    l.emplace_back("subject", a.leaf->subject);
    l.emplace_back("issuer", a.leaf->issuer);
    l.emplace_back("spki_sha256", a.leaf->spki_sha256);
    m.gauge("mailtls_cert_info", "Leaf certificate presented at this address.", l, 1);
  }
  if (a.pkix_valid) {
    m.gauge("mailtls_cert_pkix_valid",
            "1 if the chain validates to the trusted roots and names the MX host (WebPKI).", where,
            b(*a.pkix_valid));
  }
}

// Rollover discipline (T12): the phase, the safe-to-switch time and the TTL they rest on.
void rollover(MetricBuilder& m, const Labels& mxl, const domain::MxReport& mx) {
  if (mx.tlsa_original_ttl) {
    m.gauge("mailtls_dane_tlsa_original_ttl_seconds",
            "Original TTL of the TLSA RRset from its RRSIG: how long senders cache it.", mxl,
            *mx.tlsa_original_ttl);
  }
  if (mx.rollover_phase) {
    m.state_set("mailtls_dane_rollover_phase",
                "Phase of the TLSA key rollover at the MX host, from the history (state set).", mxl,
                "phase", dane::rollover_phase_names(), std::string(dane::to_string(*mx.rollover_phase)));
  }
  if (mx.rollover_safe_to_switch) {
    m.gauge("mailtls_dane_rollover_safe_to_switch_timestamp_seconds",
            "When the next key's TLSA record has been visible for 2 x TTL (or, after a switch made "
            "too fast, when the switch would have been safe), Unix time.",
            mxl, to_unix_seconds(*mx.rollover_safe_to_switch));
  }
}

// Staleness (F2, T11): records and (usage, selector, matching type) combinations of usable
// records that match no chain presented at any address; all 0 when no chain was presented.
void staleness(MetricBuilder& m, const Labels& mxl, const domain::MxReport& mx) {
  m.gauge("mailtls_dane_tlsa_stale_records",
          "Usable TLSA records that match no chain presented at any address (a past or a future key).",
          mxl, static_cast<double>(std::count_if(mx.tlsa.begin(), mx.tlsa.end(), [](const auto& t) { return t.stale; })));
  std::set<dane::TlsaGroup> groups;
  for (const auto& t : mx.tlsa) {
    if (t.usable) groups.insert({t.record.usage, t.record.selector, t.record.matching_type});
  }
  for (const auto& g : groups) {
    Labels l = mxl;
    l.emplace_back("usage", std::to_string(g.usage));
    l.emplace_back("selector", std::to_string(g.selector));
    l.emplace_back("matching_type", std::to_string(g.matching_type));
    const bool stale = std::find(mx.stale_groups.begin(), mx.stale_groups.end(), g) != mx.stale_groups.end();
    m.gauge("mailtls_dane_tlsa_group_stale",
            "1 if no usable record of this usage, selector and matching type matches a chain "
            "presented now, though another may (T11).",
            l, b(stale));
  }
}

void mx_hosts(MetricBuilder& m, const DomainReport& r) {
  for (const auto& mx : r.mx) {
    const Labels mxl{{"domain", r.domain}, {"mx", mx.host}};
    m.gauge("mailtls_mx_info", "One series per MX host of the domain.",
            {{"domain", r.domain}, {"mx", mx.host}, {"preference", std::to_string(mx.preference)}}, 1);
    if (has_tlsa_rrset(mx.dane_state)) {
      m.gauge("mailtls_dane_tlsa_records", "TLSA records at the TLSA base domain.", mxl,
              static_cast<double>(mx.tlsa.size()));
      m.gauge("mailtls_dane_tlsa_usable_records",
              "TLSA records usable for SMTP (usage 2 or 3, known selector and matching type).", mxl,
              mx.tlsa_usable);
      if (mx.tlsa_rrset_first_seen) {
        m.gauge("mailtls_dane_tlsa_rrset_first_seen_timestamp_seconds",
                "When this exact TLSA RRset was first seen, Unix time (survives restarts).", mxl,
                to_unix_seconds(*mx.tlsa_rrset_first_seen));
      }
    }
    if (mx.dane_state == dns::DaneApplicability::kDaneAppliesUsable) {
      m.gauge("mailtls_dane_rollover_ready",
              "1 if a key change would not break DANE (a matching 2 x x record, or a second "
              "3 x x key published).",
              mxl, b(mx.rollover_ready));
      rollover(m, mxl, mx);
      staleness(m, mxl, mx);
    }
    for (const auto& t : mx.tlsa) {
      for (const auto& [address, matched] : t.matches) {
        m.gauge("mailtls_dane_tlsa_record_match",
                "1 if this TLSA record matches the chain presented at this address. data: the "
                "digest in hex; for matching type 0 (a whole certificate or key) and data over "
                "64 bytes, sha256: and the SHA-256 of the data.",
                {{"domain", r.domain}, {"mx", mx.host}, {"address", address},
                 {"usage", std::to_string(t.record.usage)},
                 {"selector", std::to_string(t.record.selector)},
                 {"matching_type", std::to_string(t.record.matching_type)},
                 {"data", dane::tlsa_data_label(t.record)}},
                b(matched));
      }
    }
    if (mx.mtasts_covered) {
      m.gauge("mailtls_mtasts_mx_covered", "1 if the MX host matches an mx: pattern of the policy.",
              mxl, b(*mx.mtasts_covered));
    }
    for (const auto& a : mx.addresses) {
      const Labels l{{"domain", r.domain}, {"mx", mx.host}, {"address", a.address}};
      m.gauge("mailtls_smtp_connect_success", "1 if the TCP connection to port 25 succeeded.", l,
              b(a.connect_ok));
      if (a.connect_ok) {
        m.gauge("mailtls_smtp_starttls_offered", "1 if STARTTLS was in the EHLO reply.", l,
                b(a.starttls_offered));
      }
      m.gauge("mailtls_smtp_starttls_success", "1 if the TLS handshake after STARTTLS completed.",
              l, b(a.starttls_ok));
      for (const auto& [phase, seconds] : a.phase_seconds) {
        Labels pl = l;
        pl.emplace_back("phase", phase);
        m.gauge("mailtls_smtp_phase_duration_seconds", "Duration of each SMTP/TLS phase.", pl,
                seconds);
      }
      if (a.dane_applies) {
        m.gauge("mailtls_dane_match",
                "1 if the chain at this address matches at least one usable TLSA record.", l,
                b(a.dane_match));
      }
      for (const auto& k : a.key_types) {
        Labels kl = l;
        kl.emplace_back("key_type", k.key_type);
        m.gauge("mailtls_dane_key_type_match",
                "1 if this key type's chain at this address matches a usable TLSA record.", kl,
                b(k.dane_match));
      }
      if (!a.other_key_type_offer.empty()) {
        m.gauge("mailtls_dane_key_type_checked_timestamp_seconds",
                "When the handshake limited to the other key type was made: at an earlier probe "
                "whose answer is kept (smtp.key_type_recheck_interval, while the first handshake "
                "shows the same chain), else this probe's end. Unix time.",
                l, to_unix_seconds(a.other_key_type_checked_earlier.value_or(r.finished)));
      }
      certificate(m, l, a);
    }
  }
}

// What senders may still hold (P7, B16), from the history of served policies.
void sender_cache(MetricBuilder& m, const DomainReport& r) {
  const auto& s = r.mtasts;
  const Labels d{{"domain", r.domain}};
  if (s.sender_cache_status) {
    m.state_set("mailtls_mtasts_sender_cache_status",
                "What MTA-STS senders may still hold in their caches (state set).", d, "status",
                mtasts::sender_cache_status_names(), std::string(mtasts::to_string(*s.sender_cache_status)));
  }
  if (s.cached_enforce_expiry) {
    m.gauge("mailtls_mtasts_cached_enforce_policy_expiry_timestamp_seconds",
            "When the last enforce policy a sender may hold expires (last served + max_age), Unix "
            "time.",
            d, to_unix_seconds(*s.cached_enforce_expiry));
  }
  for (const auto& c : s.cached_mx_coverage) {
    m.gauge("mailtls_mtasts_cached_policy_mx_covered",
            "1 if every enforce policy served earlier that senders may still hold covers the MX "
            "host.",
            {{"domain", r.domain}, {"mx", c.mx_host}}, b(c.covered));
    if (!c.covered && c.refused_until) {
      m.gauge("mailtls_mtasts_cached_policy_mx_refused_until_timestamp_seconds",
              "When the last enforce policy served earlier that senders may still hold and that "
              "does not cover the MX host expires (last served + max_age), Unix time.",
              {{"domain", r.domain}, {"mx", c.mx_host}}, to_unix_seconds(*c.refused_until));
    }
  }
}

void mtasts(MetricBuilder& m, const DomainReport& r) {
  const auto& s = r.mtasts;
  const Labels d{{"domain", r.domain}};
  m.gauge("mailtls_mtasts_txt_valid", "1 if exactly one valid v=STSv1 TXT record is published.",
          d, b(s.txt_valid));
  if (s.fetch_attempted) {
    m.gauge("mailtls_mtasts_policy_fetch_success",
            "1 if the policy was fetched over HTTPS under RFC 8461's rules.", d, b(s.fetch_ok));
    m.gauge("mailtls_mtasts_policy_valid", "1 if the fetched policy parsed and validated.", d,
            b(s.policy_valid));
  }
  if (s.policy_valid) {
    m.gauge("mailtls_mtasts_policy_info", "The policy in effect: TXT id and mode.",
            {{"domain", r.domain},
             {"id", s.txt_id},
             {"mode", s.mode ? std::string(mtasts::to_string(*s.mode)) : std::string()}},
            1);
    m.gauge("mailtls_mtasts_policy_max_age_seconds", "max_age of the policy.", d,
            static_cast<double>(s.max_age));
  }
  if (s.id_last_change) {
    m.gauge("mailtls_mtasts_policy_id_last_change_timestamp_seconds",
            "When the _mta-sts TXT id last changed, Unix time (survives restarts).", d,
            to_unix_seconds(*s.id_last_change));
  }
  if (s.txt_valid) {
    m.gauge("mailtls_mtasts_policy_changed_without_id_change",
            "1 if the policy content changed while the TXT id stayed the same (senders keep the "
            "old policy).",
            d, b(s.changed_without_id_change));
  }
  if (s.policy_cert_not_after) {
    m.gauge("mailtls_mtasts_policy_cert_not_after_timestamp_seconds",
            "notAfter of the certificate of mta-sts.<domain>, Unix time.", d,
            to_unix_seconds(*s.policy_cert_not_after));
  }
  verdict_state_set(m, "mailtls_mtasts_status",
                    "Would an MTA-STS-enforcing sender deliver (state set).", d,
                    domain::kMtaStsStatuses, s.status);
  sender_cache(m, r);
}

void tlsrpt(MetricBuilder& m, const DomainReport& r) {
  const Labels d{{"domain", r.domain}};
  m.gauge("mailtls_tlsrpt_record_valid", "1 if exactly one valid v=TLSRPTv1 TXT record is published.",
          d, b(r.tlsrpt.valid));
  for (const auto& uri : r.tlsrpt.rua) {
    m.gauge("mailtls_tlsrpt_rua_info", "A reporting URI of the TLS-RPT record.",
            {{"domain", r.domain}, {"uri", uri}}, 1);
  }
}

void probe_envelope(MetricBuilder& m, const DomainReport& r) {
  const Labels d{{"domain", r.domain}};
  m.gauge("mailtls_probe_success", "1 if the probe of the domain ran to the end (not the verdict).",
          d, b(r.probe_success));
  m.gauge("mailtls_probe_duration_seconds", "Wall time of the last probe of the domain.", d,
          r.duration_seconds);
  m.gauge("mailtls_probe_timestamp_seconds", "When the last probe of the domain finished.", d,
          to_unix_seconds(r.finished));
  if (r.no_verdict) {
    m.gauge("mailtls_probe_no_verdict",
            "1 when the last probe of the domain gave no verdict, with the reason (timeout, "
            "resolver_unreachable, resolver_not_validating); the verdict metrics are those of "
            "the last probe that gave one.",
            {{"domain", r.domain}, {"reason", std::string(domain::to_string(*r.no_verdict))}}, 1);
  }
}

}  // namespace

std::vector<prometheus::MetricFamily> incomplete_probe_metrics(const DomainReport& r) {
  MetricBuilder m;
  probe_envelope(m, r);
  return m.take();
}

std::vector<prometheus::MetricFamily> domain_metrics(const DomainReport& r, MetricsProfile profile) {
  // A lean domain without anything wrong: the families it does not keep are not built.
  const bool lean_cut = profile == MetricsProfile::kLean && !needs_detail(r);
  MetricBuilder m(lean_cut ? lean_family : nullptr);
  const Labels d{{"domain", r.domain}};
  probe_envelope(m, r);
  dnssec(m, r);
  mx_hosts(m, r);
  verdict_state_set(m, "mailtls_dane_status", "Would a DANE-enforcing sender deliver (state set).",
                    d, domain::kDaneStatuses, r.dane_status);
  if (r.mtasts.checked) mtasts(m, r);
  if (r.tlsrpt.checked) tlsrpt(m, r);
  switch (profile) {
    case MetricsProfile::kFull: return m.take();
    case MetricsProfile::kLean: return lean_families(m.take(), r);
  }
  return m.take();
}

}  // namespace mailtls::exporter
