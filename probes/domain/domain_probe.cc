#include "probes/domain/domain_probe.h"

#include <algorithm>
#include <map>
#include <thread>

#include "probes/base/special_address.h"
#include "probes/dns/dns_name.h"
#include "probes/dns/mx_resolution.h"
#include "probes/dns/records.h"
#include "probes/dns/tlsa_base_domain.h"
#include "probes/domain/dane_verdict.h"
#include "probes/domain/no_verdict.h"
#include "probes/domain/policy_checks.h"
#include "probes/smtp/address_fanout.h"
#include "probes/smtp/other_key_type_probe.h"
#include "probes/tls/certificate.h"

namespace mailtls::domain {
namespace {

std::string phase_label(const char* name) { return name; }

AddressReport address_report(const smtp::StarttlsResult& s, const std::string& mx_host,
                             const tls::WebPkiVerifier& webpki, SystemTime now) {
  AddressReport a;
  a.address = s.address;
  a.family = s.family;
  a.connect_ok = s.connect_ok;
  a.starttls_offered = s.starttls_offered;
  a.starttls_ok = s.starttls_ok;
  const auto put = [&](const char* phase, const std::optional<smtp::Seconds>& d) {
    if (d) a.phase_seconds[phase_label(phase)] = d->count();
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
    auto inspected = tls::inspect_x509(s.chain.leaf());
    if (inspected) {
      const auto& f = *inspected;
      a.leaf = CertificateSummary{f.subject, f.issuer, f.spki_sha256, f.dns_names, f.not_before,
                                  f.not_after};
    }
    // What an MTA-STS sender checks: the chain to a trusted root, the MX host name. A name
    // with octets no certificate name can hold never matches, even a SAN spelling its escapes.
    if (dns::is_host_name(mx_host)) {
      const auto verdict = webpki.verify(s.chain, mx_host, now);
      a.pkix_valid = verdict.ok;
      if (!verdict.ok) a.pkix_result_type = std::string(tls::to_string(verdict.result_type));
    } else {
      a.pkix_valid = false;
      a.pkix_result_type = std::string(tls::to_string(tls::WebPkiResultType::kCertificateHostMismatch));
    }
  }
  return a;
}

// A probe cut off by the deadline in a phase the deadline bounds: its outcome is unknown.
bool cut_off(const smtp::StarttlsResult& s) {
  switch (s.failure) {
    case smtp::StarttlsFailure::kConnectTimeout:
    case smtp::StarttlsFailure::kBannerTimeout:
    case smtp::StarttlsFailure::kTimeout: return true;
    default: return false;
  }
}

}  // namespace

DomainReport probe_domain(const std::string& domain, const DomainProbeSettings& settings,
                          const DomainProbeSeams& seams) {
  const auto started = std::chrono::steady_clock::now();
  const Deadline deadline = Deadline::after(settings.timeout);
  const SystemTime now = seams.clock.now();
  DomainReport r;
  r.domain = domain;

  // 5., 6. MTA-STS and TLS-RPT need only the domain name: looked up beside steps 1-4, so a
  // stalling MX cannot use up their share of the deadline (robustness finding R2).
  PolicyLookups policies;
  std::jthread policy_thread;
  if (settings.check_mtasts || settings.check_tlsrpt) {
    policy_thread = std::jthread([&policies, &domain, &settings, &seams, deadline] {
      policies = lookup_policies(domain, settings.check_mtasts, settings.check_tlsrpt,
                                 seams.resolver, seams.policy_fetcher, deadline);
    });
  }

  // 1. MX (RFC 7672 §2.2.1; no MX: the domain itself, RFC 5321 §5.1).
  const auto mx = dns::resolve_mx(seams.resolver, domain, deadline);
  add_rrset(r, mx.mx_answer);
  r.log.push_back("MX " + domain + ": " + std::string(dns::to_string(mx.status)) +
                  (mx.reason.empty() ? "" : " (" + mx.reason + ")"));
  r.mx_null = mx.status == dns::MxStatus::kNullMx;

  // 2. Per MX host: addresses first, then TLSA at the base domain (RFC 7672 §2.2.2).
  std::vector<dns::TlsaBaseDomainResult> hosts;
  std::vector<std::string> unfinished_mx;  // MX hosts the deadline left unprobed or cut off
  for (const auto& rec : mx.hosts) {
    if (deadline.expired()) break;
    auto h = dns::find_tlsa_base_domain(seams.resolver, rec.host, deadline, settings.smtp_port);
    for (const auto& a : h.answers) add_rrset(r, a);
    MxReport m;
    m.host = rec.host;
    m.preference = rec.preference;
    m.implicit = mx.status == dns::MxStatus::kImplicitMx;
    m.tlsa_base_domain = h.base_domain;
    m.dane_state = settings.check_dane ? h.applicability : dns::DaneApplicability::kNotApplicableNoTlsa;
    m.tlsa_original_ttl = h.tlsa_answer.rrsig_original_ttl;
    r.log.push_back("MX host " + rec.host + ": " + std::string(dns::to_string(h.applicability)) +
                    (h.reason.empty() ? "" : " (" + h.reason + ")") + ", " +
                    std::to_string(h.addresses.size()) + " addresses");
    r.mx.push_back(std::move(m));
    hosts.push_back(std::move(h));
  }
  for (size_t k = hosts.size(); k < mx.hosts.size(); ++k) unfinished_mx.push_back(mx.hosts[k].host);

  // 3. STARTTLS at every address of every MX host, all at once, within the deadline.
  std::vector<smtp::StarttlsTarget> targets;
  std::vector<std::pair<size_t, std::string>> owner;  // (mx index, address) per target
  for (size_t i = 0; i < hosts.size(); ++i) {
    // SNI is the TLSA base domain when DANE applies (RFC 7672 §8.1), else the MX host. A
    // name that is no host name (octets other than letters, digits, '-', '_' in its labels)
    // cannot be a TLS server name (RFC 6066 §3): none is sent.
    std::string sni = hosts[i].base_domain.empty() ? hosts[i].host : hosts[i].base_domain;
    if (!dns::is_host_name(sni)) sni.clear();
    for (const auto& addr : hosts[i].addresses) {
      if (!settings.probe_special_addresses && is_special_purpose_address(addr.ip)) {
        r.log.push_back("skipped " + addr.ip + " of " + hosts[i].host +
                        ": special-purpose address (smtp.probe_special_addresses is off)");
        continue;
      }
      targets.push_back({addr.ip, sni});
      owner.emplace_back(i, addr.ip);
    }
  }
  const auto results = smtp::probe_addresses(
      seams.starttls, targets, deadline, smtp::kDefaultMaxParallelProbes,
      {seams.observations, settings.observation_max_age, domain});
  const bool smtp_cut_off = deadline.expired();
  for (size_t t = 0; t < results.size() && t < owner.size(); ++t) {
    auto& m = r.mx[owner[t].first];
    m.addresses.push_back(address_report(results[t], m.host, seams.webpki, now));
    const auto& a = m.addresses.back();
    r.log.push_back(m.host + " " + a.address + ": " +
                    (a.starttls_ok ? "STARTTLS " + a.tls_version : "failed: " + a.failure));
    if (smtp_cut_off && cut_off(results[t]) &&
        std::find(unfinished_mx.begin(), unfinished_mx.end(), m.host) == unfinished_mx.end()) {
      unfinished_mx.push_back(m.host);
    }
  }

  // 3b. Every key type (T14): where DANE applies with usable records, one more handshake per
  // address limited to the key type the first did not present. A server with one certificate
  // refuses it, which is "not offered", not a failure.
  std::vector<std::optional<smtp::StarttlsResult>> other_key_types(results.size());
  if (settings.check_dane) {
    std::vector<smtp::StarttlsTarget> second;
    std::vector<size_t> second_of;  // target index per second-round target
    for (size_t t = 0; t < results.size() && t < owner.size(); ++t) {
      if (hosts[owner[t].first].applicability != dns::DaneApplicability::kDaneAppliesUsable) continue;
      const auto ask = smtp::other_key_type_to_ask(results[t]);
      if (!ask) continue;
      second.push_back({targets[t].ip, targets[t].sni_name, *ask});
      second_of.push_back(t);
    }
    const auto limited = smtp::probe_addresses(seams.starttls, second, deadline);
    for (size_t k = 0; k < limited.size(); ++k) {
      const size_t t = second_of[k];
      auto& m = r.mx[owner[t].first];
      const std::string offer(smtp::to_string(smtp::key_type_offer(limited[k], *second[k].only)));
      for (auto& report : m.addresses) {
        if (report.address == owner[t].second) report.other_key_type_offer = offer;
      }
      r.log.push_back(m.host + " " + owner[t].second + ": " + std::string(tls::to_string(*second[k].only)) +
                      " certificate " + offer + (limited[k].ok() ? "" : " (" + limited[k].message + ")"));
      other_key_types[t] = limited[k];
    }
  }

  // 4. DANE: the chain at every address against the TLSA records, and the domain verdict.
  if (settings.check_dane) {
    assess_dane(r, hosts, results, owner, mx, now, other_key_types);
  } else {
    r.dane_status = dane::DaneStatus::kNotDeployed;
  }

  // 5. MTA-STS (its verdict needs the SMTP results above); 6. TLS-RPT. The lookups end by the
  // deadline, so this join does too.
  if (policy_thread.joinable()) policy_thread.join();
  if (settings.check_mtasts) report_mtasts(r, policies, unfinished_mx);
  if (settings.check_tlsrpt) report_tlsrpt(r, policies);

  r.probe_success = !deadline.expired();
  if (!r.probe_success) {
    mark_no_verdict(r, NoVerdictReason::kTimeout, "the probe did not finish within its timeout");
  }
  r.duration_seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  r.finished = seams.clock.now();
  r.log.push_back("verdicts: DANE " + std::string(to_string(r.dane_status)) + ", MTA-STS " +
                  std::string(to_string(r.mtasts.status)));
  make_printable(r);
  return r;
}

}  // namespace mailtls::domain
