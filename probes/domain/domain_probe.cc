#include "probes/domain/domain_probe.h"

#include <algorithm>
#include <map>

#include "probes/dns/mx_resolution.h"
#include "probes/dns/records.h"
#include "probes/dns/tlsa_base_domain.h"
#include "probes/domain/dane_verdict.h"
#include "probes/mtasts/mtasts_assessment.h"
#include "probes/mtasts/mtasts_probe.h"
#include "probes/domain/special_address.h"
#include "probes/smtp/address_fanout.h"
#include "probes/tls/certificate.h"
#include "probes/tlsrpt/tlsrpt_record.h"

namespace mailtls::domain {
namespace {

void add_rrset(DomainReport& r, const dns::Answer& a) {
  if (a.qname.empty()) return;
  for (const auto& existing : r.rrsets) {
    if (existing.name == a.qname && existing.type == dns::to_string(a.type)) return;
  }
  r.rrsets.push_back(RrsetStatus{a.qname, std::string(dns::to_string(a.type)), a.security,
                                 a.outcome, a.earliest_rrsig_expiry, a.reason});
}

std::string dane_state_of(dns::DaneApplicability d) {
  switch (d) {
    case dns::DaneApplicability::kDaneAppliesUsable: return "usable";
    case dns::DaneApplicability::kDaneAppliesNoneUsable: return "none_usable";
    case dns::DaneApplicability::kNotApplicableInsecure: return "insecure";
    case dns::DaneApplicability::kNotApplicableNoTlsa: return "none";
    case dns::DaneApplicability::kLookupFailed: return "lookup_failed";
  }
  return "lookup_failed";
}

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
    a.failure_kind = std::string(smtp::to_string(s.failure));
    a.failure = s.message;
  }
  a.tls_version = s.tls_version;
  a.cipher = s.cipher;
  if (!s.chain_der.empty()) {
    auto inspected = tls::inspect_certificate(s.chain_der.front());
    if (inspected.facts) {
      const auto& f = *inspected.facts;
      a.leaf = CertificateSummary{f.subject, f.issuer, f.spki_sha256, f.dns_names, f.not_before,
                                  f.not_after};
    }
    // What an MTA-STS sender checks: the chain to a trusted root, the MX host name.
    const auto verdict = webpki.verify(s.chain_der, mx_host, now);
    a.pkix_valid = verdict.ok;
    if (!verdict.ok) a.pkix_result_type = std::string(tls::to_string(verdict.result_type));
  }
  return a;
}

void probe_mtasts(DomainReport& r, const DomainProbeSeams& seams, Deadline deadline) {
  auto& m = r.mtasts;
  m.checked = true;
  const auto probe = mtasts::probe_mtasts(seams.resolver, seams.policy_fetcher, r.domain, deadline);
  const auto& txt = probe.txt;
  if (!txt.qname.empty()) {
    r.rrsets.push_back(RrsetStatus{txt.qname, "TXT", txt.security, txt.outcome, std::nullopt, txt.lookup_error});
  }
  m.txt_present = !txt.lookup_failed && txt.txt.error != mtasts::StsTxtError::kNoRecord;
  m.txt_valid = !txt.lookup_failed && txt.txt.valid();
  m.txt_id = txt.txt.record.id;
  m.txt_error = txt.lookup_failed ? txt.lookup_error : txt.txt.message;
  if (probe.fetch) {
    const auto& f = *probe.fetch;
    m.fetch_attempted = true;
    m.fetch_ok = f.ok;
    m.fetch_error = f.message;
    m.fetch_result_type = f.result_type;
    m.policy_cert_not_after = f.cert_not_after;
    r.log.push_back("fetched " + f.url + ": " + (f.ok ? "ok" : f.message));
    if (f.ok) m.body_sha256 = f.body_sha256;
  }
  if (probe.policy) {
    m.policy_valid = probe.policy->valid();
    m.policy_error = probe.policy->message;
    if (probe.policy->policy) {
      m.mode = std::string(mtasts::to_string(probe.policy->policy->mode));
      m.max_age = probe.policy->policy->max_age_seconds;
      m.mx_patterns = probe.policy->policy->mx;
    }
  }
  // What an MTA-STS sender sees at each MX host: every address must do STARTTLS with a
  // certificate that is WebPKI-valid for the MX name (RFC 8461 §4.2).
  std::vector<mtasts::MxTransport> transports;
  for (const auto& mx : r.mx) {
    mtasts::MxTransport t{mx.host, !mx.addresses.empty(), !mx.addresses.empty()};
    for (const auto& a : mx.addresses) {
      t.starttls_ok = t.starttls_ok && a.starttls_ok;
      t.webpki_valid = t.webpki_valid && a.pkix_valid.value_or(false);
    }
    transports.push_back(t);
  }
  const auto verdict = mtasts::assess_mtasts(probe, transports);
  m.status = std::string(mtasts::to_string(verdict.status));
  m.warnings = verdict.warnings;
  for (const auto& a : verdict.mx) {
    for (auto& mx : r.mx) {
      if (mx.host == a.name) mx.mtasts_covered = a.covered;
    }
  }
  r.log.push_back("MTA-STS: " + m.status + " (" + verdict.reason + ")");
}

void probe_tlsrpt(DomainReport& r, const DomainProbeSeams& seams, Deadline deadline) {
  r.tlsrpt.checked = true;
  const auto txt = seams.resolver.lookup("_smtp._tls." + r.domain, dns::RrType::kTxt, deadline);
  add_rrset(r, txt);
  if (txt.failed()) {
    r.tlsrpt.error = "TXT lookup of _smtp._tls." + r.domain + " failed: " + txt.reason;
    return;
  }
  const auto parsed = tlsrpt::parse_tlsrpt_rrset(dns::decode_txt(txt).records);
  r.tlsrpt.present = parsed.error != tlsrpt::TlsRptRecordError::kNoRecord;
  r.tlsrpt.valid = parsed.valid();
  r.tlsrpt.error = parsed.message;
  if (parsed.valid()) r.tlsrpt.rua = parsed.record.rua;
}

}  // namespace

DomainReport probe_domain(const std::string& domain, const DomainProbeSettings& settings,
                          const DomainProbeSeams& seams) {
  const auto started = std::chrono::steady_clock::now();
  const Deadline deadline = Deadline::after(settings.timeout);
  const SystemTime now = seams.clock.now();
  DomainReport r;
  r.domain = domain;

  // 1. MX (RFC 7672 §2.2.1; no MX: the domain itself, RFC 5321 §5.1).
  const auto mx = dns::resolve_mx(seams.resolver, domain, deadline);
  add_rrset(r, mx.mx_answer);
  r.log.push_back("MX " + domain + ": " + std::string(dns::to_string(mx.status)) +
                  (mx.reason.empty() ? "" : " (" + mx.reason + ")"));
  r.mx_null = mx.status == dns::MxStatus::kNullMx;

  // 2. Per MX host: addresses first, then TLSA at the base domain (RFC 7672 §2.2.2).
  std::vector<dns::TlsaBaseDomainResult> hosts;
  for (const auto& rec : mx.hosts) {
    if (deadline.expired()) break;
    auto h = dns::find_tlsa_base_domain(seams.resolver, rec.host, deadline, settings.smtp_port);
    for (const auto& a : h.answers) add_rrset(r, a);
    MxReport m;
    m.host = rec.host;
    m.preference = rec.preference;
    m.implicit = mx.status == dns::MxStatus::kImplicitMx;
    m.tlsa_base_domain = h.base_domain;
    m.dane_state = settings.check_dane ? dane_state_of(h.applicability) : "none";
    r.log.push_back("MX host " + rec.host + ": " + std::string(dns::to_string(h.applicability)) +
                    (h.reason.empty() ? "" : " (" + h.reason + ")") + ", " +
                    std::to_string(h.addresses.size()) + " addresses");
    r.mx.push_back(std::move(m));
    hosts.push_back(std::move(h));
  }

  // 3. STARTTLS at every address of every MX host, all at once, within the deadline.
  std::vector<smtp::StarttlsTarget> targets;
  std::vector<std::pair<size_t, std::string>> owner;  // (mx index, address) per target
  for (size_t i = 0; i < hosts.size(); ++i) {
    // SNI is the TLSA base domain when DANE applies (RFC 7672 §8.1), else the MX host.
    const std::string sni = hosts[i].base_domain.empty() ? hosts[i].host : hosts[i].base_domain;
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
  const auto results = smtp::probe_addresses(seams.starttls, targets, deadline);
  for (size_t t = 0; t < results.size() && t < owner.size(); ++t) {
    auto& m = r.mx[owner[t].first];
    m.addresses.push_back(address_report(results[t], m.host, seams.webpki, now));
    const auto& a = m.addresses.back();
    r.log.push_back(m.host + " " + a.address + ": " +
                    (a.starttls_ok ? "STARTTLS " + a.tls_version : "failed: " + a.failure));
  }

  // 4. DANE: the chain at every address against the TLSA records, and the domain verdict.
  if (settings.check_dane) {
    assess_dane(r, hosts, results, owner, mx, now);
  } else {
    r.dane_status = "not_deployed";
  }

  // 5. MTA-STS; 6. TLS-RPT.
  if (settings.check_mtasts && !deadline.expired()) probe_mtasts(r, seams, deadline);
  if (settings.check_tlsrpt && !deadline.expired()) probe_tlsrpt(r, seams, deadline);

  r.probe_success = !deadline.expired();
  if (!r.probe_success) r.probe_error = "the probe did not finish within its timeout";
  r.duration_seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  r.finished = seams.clock.now();
  r.log.push_back("verdicts: DANE " + r.dane_status + ", MTA-STS " + r.mtasts.status);
  return r;
}

}  // namespace mailtls::domain
