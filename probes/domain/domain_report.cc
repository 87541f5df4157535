#include "probes/domain/domain_report.h"

#include "probes/base/printable_text.h"

namespace mailtls::domain {

std::string_view dane_state_name(dns::DaneApplicability d) {
  switch (d) {
    case dns::DaneApplicability::kDaneAppliesUsable: return "usable";
    case dns::DaneApplicability::kDaneAppliesNoneUsable: return "none_usable";
    case dns::DaneApplicability::kNotApplicableInsecure: return "insecure";
    case dns::DaneApplicability::kNotApplicableNoTlsa: return "none";
    case dns::DaneApplicability::kLookupFailed: return "lookup_failed";
  }
  return "lookup_failed";
}

namespace {

void fix(std::string& s) {
  if (!is_printable_text(s)) s = printable_text(s);
}

void fix(std::vector<std::string>& v) {
  for (auto& s : v) fix(s);
}

}  // namespace

void make_printable(DomainReport& r) {
  fix(r.domain);
  fix(r.probe_error);
  for (auto& rr : r.rrsets) {
    fix(rr.name);
    fix(rr.reason);
  }
  for (auto& mx : r.mx) {
    fix(mx.host);
    fix(mx.tlsa_base_domain);
    for (auto& t : mx.tlsa) fix(t.unusable_reason);
    for (auto& a : mx.addresses) {
      fix(a.failure);
      fix(a.tls_version);
      fix(a.cipher);
      fix(a.pkix_result_type);
      fix(a.dane_result_type);
      if (a.leaf) {
        fix(a.leaf->subject);
        fix(a.leaf->issuer);
        fix(a.leaf->dns_names);
      }
    }
  }
  auto& m = r.mtasts;
  fix(m.txt_id);
  fix(m.txt_error);
  fix(m.fetch_error);
  fix(m.policy_error);
  fix(m.mx_patterns);
  fix(m.warnings);
  fix(r.tlsrpt.error);
  fix(r.tlsrpt.rua);
  fix(r.log);
}

}  // namespace mailtls::domain
