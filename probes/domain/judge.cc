#include "probes/domain/judge.h"

#include <algorithm>

#include "probes/dns/dns_name.h"
#include "probes/domain/dane_verdict.h"
#include "probes/domain/history_verdicts.h"
#include "probes/domain/policy_checks.h"
#include "probes/smtp/other_key_type_probe.h"
#include "probes/tls/certificate.h"

namespace mailtls::domain {
namespace {

AddressReport address_report(const AddressObservation& o, const std::string& mx_host) {
  const auto& s = o.starttls;
  AddressReport a;
  a.address = s.address;
  a.family = s.family;
  a.connect_ok = s.connect_ok;
  a.starttls_offered = s.starttls_offered;
  a.starttls_ok = s.starttls_ok;
  const auto put = [&](const char* phase, const std::optional<smtp::Seconds>& d) {
    if (d) a.phase_seconds[phase] = d->count();
  };
  put("connect", s.durations.connect);
  put("banner", s.durations.banner);
  put("ehlo", s.durations.ehlo);
  put("starttls", s.durations.starttls);
  put("tls_handshake", s.durations.tls_handshake);
  if (!s.ok()) {
    a.failure_kind = s.failure;
    a.failure = s.message;
  }
  a.tls_version = s.tls_version;
  a.cipher = s.cipher;
  if (s.key_type) a.key_type = std::string(tls::to_string(*s.key_type));
  if (!s.chain.empty()) {
    if (const auto& inspected = s.chain.leaf_facts()) {
      const auto& f = *inspected;
      a.leaf = CertificateSummary{f.subject, f.issuer, f.spki_sha256, f.dns_names, f.not_before,
                                  f.not_after};
    }
    // What an MTA-STS sender checks: the chain to a trusted root, the MX host name. A name
    // with octets no certificate name can hold never matches, even a SAN spelling its escapes.
    if (o.webpki && dns::is_host_name(mx_host)) {
      a.pkix_valid = o.webpki->ok;
      if (!o.webpki->ok) a.pkix_result_type = std::string(tls::to_string(o.webpki->result_type));
    } else {
      a.pkix_valid = false;
      a.pkix_result_type = std::string(tls::to_string(tls::WebPkiResultType::kCertificateHostMismatch));
    }
  }
  if (o.other_key_type && o.other_key_type->key_type_limit) {
    a.other_key_type_offer =
        std::string(smtp::to_string(smtp::key_type_offer(*o.other_key_type, *o.other_key_type->key_type_limit)));
    a.other_key_type_checked_earlier = o.other_key_type_checked_earlier;
  }
  return a;
}

MxReport mx_report(const DomainObservation& o, const MxHostObservation& h) {
  MxReport m;
  m.host = h.mx.host;
  m.preference = h.mx.preference;
  m.implicit = o.mx.status == dns::MxStatus::kImplicitMx;
  m.tlsa_base_domain = h.lookup.base_domain;
  m.dane_state = o.check_dane ? h.lookup.applicability : dns::DaneApplicability::kNotApplicableNoTlsa;
  m.tlsa_original_ttl = h.lookup.tlsa_answer.rrsig_original_ttl;
  for (const auto& a : h.addresses) {
    if (!a.skipped_special_purpose) m.addresses.push_back(address_report(a, h.mx.host));
  }
  return m;
}

// The log of what was observed, in the order it happened.
void log_observations(DomainReport& r, const DomainObservation& o) {
  r.log.push_back("MX " + o.domain + ": " + std::string(dns::to_string(o.mx.status)) +
                  (o.mx.reason.empty() ? "" : " (" + o.mx.reason + ")"));
  for (const auto& h : o.hosts) {
    r.log.push_back("MX host " + h.mx.host + ": " + std::string(dns::to_string(h.lookup.applicability)) +
                    (h.lookup.reason.empty() ? "" : " (" + h.lookup.reason + ")") + ", " +
                    std::to_string(h.lookup.addresses.size()) + " addresses");
  }
  for (const auto& h : o.hosts) {
    for (const auto& a : h.addresses) {
      if (a.skipped_special_purpose) {
        r.log.push_back("skipped " + a.address.ip + " of " + h.mx.host +
                        ": special-purpose address (smtp.probe_special_addresses is off)");
      }
    }
  }
  for (const auto& h : o.hosts) {
    for (const auto& a : h.addresses) {
      if (a.skipped_special_purpose) continue;
      const auto& s = a.starttls;
      r.log.push_back(h.mx.host + " " + s.address + ": " +
                      (s.starttls_ok ? "STARTTLS " + s.tls_version : "failed: " + s.message));
    }
  }
  for (const auto& h : o.hosts) {
    for (const auto& a : h.addresses) {
      if (!a.other_key_type || !a.other_key_type->key_type_limit) continue;
      const auto& k = *a.other_key_type;
      r.log.push_back(h.mx.host + " " + a.address.ip + ": " + std::string(tls::to_string(*k.key_type_limit)) +
                      " certificate " + std::string(smtp::to_string(smtp::key_type_offer(k, *k.key_type_limit))) +
                      (k.ok() ? "" : " (" + k.message + ")") +
                      (a.other_key_type_checked_earlier ? ", kept from an earlier probe" : ""));
    }
  }
}

// MX hosts whose SMTP probe the deadline left undone or cut off: whether they pass is unknown.
std::vector<std::string> unfinished_mx(const DomainObservation& o) {
  std::vector<std::string> out = o.hosts_not_looked_up;
  for (const auto& h : o.hosts) {
    const bool cut = std::any_of(h.addresses.begin(), h.addresses.end(),
                                 [](const AddressObservation& a) { return a.cut_off; });
    if (cut && std::find(out.begin(), out.end(), h.mx.host) == out.end()) out.push_back(h.mx.host);
  }
  return out;
}

}  // namespace

DomainReport judge_observation(const DomainObservation& o, SystemTime now) {
  DomainReport r;
  r.domain = o.domain;
  r.rrsets = observed_rrsets(o);
  r.mx_null = o.mx.status == dns::MxStatus::kNullMx;
  for (const auto& h : o.hosts) r.mx.push_back(mx_report(o, h));
  log_observations(r, o);

  if (o.check_dane) {
    assess_dane(r, o, now);
  } else {
    r.dane_status = dane::DaneStatus::kNotDeployed;
  }
  if (o.check_mtasts) report_mtasts(r, o.policies, unfinished_mx(o));
  if (o.check_tlsrpt) report_tlsrpt(r, o.policies);

  r.probe_success = !o.deadline_expired;
  if (!r.probe_success) {
    mark_no_verdict(r, NoVerdictReason::kTimeout, "the probe did not finish within its timeout");
  }
  r.duration_seconds = o.duration_seconds;
  r.finished = o.finished;
  return r;
}

Judgement judge(const DomainObservation& observation, const ResolverObservation& resolver,
                const DomainHistory& history, SystemTime now) {
  DomainReport report = judge_observation(observation, now);
  judge_resolver_faults(report, resolver);
  report.log.push_back("verdicts: DANE " + std::string(to_string(report.dane_status)) +
                       ", MTA-STS " + std::string(to_string(report.mtasts.status)));
  return judge_with_history(std::move(report), history, now);
}

Judgement judge_with_history(DomainReport report, const DomainHistory& history, SystemTime now) {
  Judgement j;
  j.remember = judge_history(report, history, now);
  make_printable(report);
  j.verdict = std::move(report);
  return j;
}

}  // namespace mailtls::domain
