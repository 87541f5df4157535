#include "probes/domain/dane_verdict.h"

#include "probes/dane/tlsa_usability.h"
#include "probes/smtp/other_key_type_probe.h"
#include "probes/tls/certificate.h"

namespace mailtls::domain {
namespace {

std::string spki_of(const tls::X509Chain& chain) {
  const auto& inspected = chain.leaf_facts();
  return inspected ? inspected->spki_sha256 : "";
}

// The per-key-type matches of one address, with each key type's leaf key.
std::vector<AddressReport::KeyTypeMatch> key_type_matches(const dane::AddressDaneResult& a,
                                                          const dane::AddressProbe& probe) {
  std::vector<AddressReport::KeyTypeMatch> out;
  for (const auto& k : a.key_types) {
    AddressReport::KeyTypeMatch m;
    m.key_type = std::string(tls::to_string(k.key_type));
    m.dane_match = k.authenticated;
    if (!k.authenticated) m.dane_result_type = std::string(dane::to_string(k.result_type));
    m.record_matches = k.record_matches;
    if (probe.key_type == k.key_type) m.spki_sha256 = spki_of(probe.chain);
    for (const auto& o : probe.other_key_types) {
      if (o.key_type == k.key_type) m.spki_sha256 = spki_of(o.chain);
    }
    out.push_back(std::move(m));
  }
  return out;
}

// What the STARTTLS probes of one address give the DANE assessment.
dane::AddressProbe address_probe(const AddressObservation& a) {
  const auto& s = a.starttls;
  // "Reached" means the SMTP dialogue got as far as EHLO.
  const bool reached = s.connect_ok && s.phase != smtp::StarttlsPhase::kConnect &&
                       s.phase != smtp::StarttlsPhase::kBanner;
  dane::AddressProbe p{s.address, reached, s.starttls_offered, s.starttls_ok, s.chain, s.key_type, {}};
  if (a.other_key_type && a.other_key_type->key_type_limit) {
    const auto& o = *a.other_key_type;
    if (smtp::key_type_offer(o, *o.key_type_limit) == smtp::KeyTypeOffer::kOffered) {
      p.other_key_types.push_back({*o.key_type_limit, o.chain});
    }
  }
  return p;
}

dane::MxDaneInput mx_input(const MxHostObservation& h) {
  dane::MxDaneInput m;
  m.host = h.lookup.host;
  m.applicability = h.lookup.applicability;
  m.base_domain = h.lookup.base_domain;
  m.records = h.lookup.tlsa_records;
  for (const auto& a : h.addresses) {
    if (!a.skipped_special_purpose) m.addresses.push_back(address_probe(a));
  }
  return m;
}

// The per-record table, the per-address results and the readiness of one MX host.
void report_mx(MxReport& m, const dane::MxDaneInput& in, const dane::MxDaneResult& v) {
  for (size_t k = 0; k < in.records.size(); ++k) {
    TlsaRecordReport t;
    t.record = in.records[k];
    if (k < v.usability.size()) {
      t.usable = v.usability[k].usable;
      if (!t.usable) t.unusable_reason = std::string(dane::to_string(v.usability[k].unusable_reason));
    }
    t.stale = k < v.record_stale.size() && v.record_stale[k];
    for (size_t a = 0; a < v.addresses.size(); ++a) {
      const bool matched = k < v.record_matches.size() && a < v.record_matches[k].size() && v.record_matches[k][a];
      if (v.addresses[a].dane_applies) t.matches[v.addresses[a].address] = matched;
    }
    m.tlsa.push_back(std::move(t));
  }
  m.tlsa_usable = v.usable_records;
  m.rollover_ready = v.rollover_ready;
  m.rollover_reason = v.rollover;
  m.stale_groups = v.stale_groups;
  // v.addresses and in.addresses are in the same order (assess_mx_dane keeps it).
  for (size_t k = 0; k < v.addresses.size() && k < in.addresses.size(); ++k) {
    const auto& a = v.addresses[k];
    for (auto& report : m.addresses) {
      if (report.address != a.address) continue;
      report.dane_applies = a.dane_applies;
      // dane_match: a DANE sender delivers here (authenticated, or TLS where no record is
      // usable: RFC 7672 §2.2.3).
      report.dane_match = a.dane_applies && a.delivers;
      if (a.dane_applies && !a.delivers) report.dane_result_type = std::string(dane::to_string(a.result_type));
      report.key_types = key_type_matches(a, in.addresses[k]);
    }
  }
}

}  // namespace

std::vector<std::string> extra_next_hop_names(const dns::MxResolution& mx) {
  const auto& expanded = mx.mx_answer.canonical_name;
  if (expanded.empty() || expanded == mx.domain) return {};
  return {expanded};
}

void assess_dane(DomainReport& r, const DomainObservation& o, SystemTime now) {
  dane::DomainDaneInput in;
  in.domain = o.domain;
  in.mx_lookup_failed = o.mx.status == dns::MxStatus::kLookupFailed;
  in.mx_secure = o.mx.mx_answer.security == dns::Security::kSecure;
  in.extra_next_hop_names = extra_next_hop_names(o.mx);
  for (const auto& h : o.hosts) in.mx.push_back(mx_input(h));
  const auto verdict = dane::assess_domain_dane(in, now);
  // r.mx was filled from o.hosts, one to one; verdict.mx keeps the order of in.mx.
  for (size_t i = 0; i < verdict.mx.size() && i < r.mx.size(); ++i) report_mx(r.mx[i], in.mx[i], verdict.mx[i]);
  r.dane_status = verdict.status;
  r.dane_partial = verdict.partial_coverage;
}

}  // namespace mailtls::domain
