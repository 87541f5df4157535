#include "probes/domain/policy_checks.h"

#include <algorithm>
#include <chrono>

#include "probes/dns/records.h"
#include "probes/mtasts/mtasts_assessment.h"
#include "probes/tlsrpt/tlsrpt_record.h"

namespace mailtls::domain {
namespace {

// What an MTA-STS sender sees at each MX host: every address must do STARTTLS with a
// certificate that is WebPKI-valid for the MX name (RFC 8461 §4.2).
std::vector<mtasts::MxTransport> transports_of(const DomainReport& r) {
  std::vector<mtasts::MxTransport> transports;
  for (const auto& mx : r.mx) {
    mtasts::MxTransport t{mx.host, !mx.addresses.empty(), !mx.addresses.empty()};
    for (const auto& a : mx.addresses) {
      t.starttls_ok = t.starttls_ok && a.starttls_ok;
      t.webpki_valid = t.webpki_valid && a.pkix_valid.value_or(false);
    }
    transports.push_back(t);
  }
  return transports;
}

void copy_lookup_results(MtaStsReport& m, const mtasts::MtaStsProbeResult& probe) {
  const auto& txt = probe.txt;
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
    if (f.ok) m.body_sha256 = f.body_sha256;
  }
  if (probe.policy) {
    m.policy_valid = probe.policy->valid();
    m.policy_error = probe.policy->message;
    if (probe.policy->policy) {
      m.mode = probe.policy->policy->mode;
      m.max_age = probe.policy->policy->max_age_seconds;
      m.mx_patterns = probe.policy->policy->mx;
    }
  }
}

}  // namespace

PolicyLookups lookup_policies(const std::string& domain, bool check_mtasts, bool check_tlsrpt,
                              dns::Resolver& resolver, mtasts::PolicyFetcher& fetcher,
                              Deadline deadline) {
  PolicyLookups out;
  if (check_tlsrpt) {
    out.tlsrpt_txt = resolver.lookup("_smtp._tls." + domain, dns::RrType::kTxt, deadline);
    out.tlsrpt_in_time = !deadline.expired();
  }
  if (check_mtasts) {
    // The fetch ends a little before the probe does, so that a policy host slower than that
    // (a drip-feeding one) is the domain's fetch error, a verdict, and not a probe cut off by
    // its deadline without one. Senders give up on such a host too (RFC 8461 §3.3).
    const auto left = deadline.remaining();
    const auto margin = std::min<std::chrono::milliseconds>(std::chrono::seconds(1), left / 5);
    out.mtasts = mtasts::probe_mtasts(resolver, fetcher, domain, deadline.capped(left - margin));
    out.mtasts_in_time = !deadline.expired();
  }
  return out;
}

void report_mtasts(DomainReport& r, const PolicyLookups& lookups,
                   const std::vector<std::string>& unfinished_mx) {
  auto& m = r.mtasts;
  m.checked = true;
  if (!lookups.mtasts || !lookups.mtasts_in_time) {
    m.timed_out = true;
    m.status = NoVerdictReason::kTimeout;
    r.log.push_back("MTA-STS: not checked, the probe timeout passed before it finished");
    return;
  }
  const auto& probe = *lookups.mtasts;
  copy_lookup_results(m, probe);
  if (probe.fetch) {
    r.log.push_back("fetched " + probe.fetch->url + ": " +
                    (probe.fetch->ok ? "ok" : probe.fetch->message));
  }
  const auto verdict = mtasts::assess_mtasts(probe, transports_of(r));
  m.status = verdict.status;
  m.warnings = verdict.warnings;
  for (const auto& a : verdict.mx) {
    for (auto& mx : r.mx) {
      if (mx.host == a.name) mx.mtasts_covered = a.covered;
    }
  }
  // In enforce mode the verdict rests on every MX host passing; one the deadline cut off is
  // neither a pass nor a failure.
  if (verdict.mode == mtasts::StsMode::kEnforce && !unfinished_mx.empty()) {
    m.timed_out = true;
    m.status = NoVerdictReason::kTimeout;
    r.log.push_back("MTA-STS: mode enforce, but the SMTP probe of " + unfinished_mx.front() +
                    " did not finish within the probe timeout: no verdict");
    return;
  }
  r.log.push_back("MTA-STS: " + std::string(mtasts::to_string(verdict.status)) + " (" +
                  verdict.reason + ")");
}

void report_tlsrpt(DomainReport& r, const PolicyLookups& lookups) {
  r.tlsrpt.checked = true;
  if (!lookups.tlsrpt_txt || !lookups.tlsrpt_in_time) {
    r.tlsrpt.timed_out = true;
    r.tlsrpt.error = kNotCheckedTimeout;
    r.log.push_back("TLS-RPT: not checked, the probe timeout passed before it finished");
    return;
  }
  const auto& txt = *lookups.tlsrpt_txt;
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

}  // namespace mailtls::domain
