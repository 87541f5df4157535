#include "probes/domain/dane_verdict.h"

#include "probes/dane/dane_assessment.h"
#include "probes/dane/tlsa_usability.h"
#include "probes/smtp/other_key_type_probe.h"
#include "probes/tls/certificate.h"

namespace mailtls::domain {
namespace {

std::string spki_of(const tls::X509Chain& chain) {
  if (chain.empty()) return "";
  const auto inspected = tls::inspect_x509(chain.leaf());
  return inspected.facts ? inspected.facts->spki_sha256 : "";
}

// The per-key-type matches of one address, with each key type's leaf key.
std::vector<AddressReport::KeyTypeMatch> key_type_matches(const dane::AddressDaneResult& a,
                                                          const dane::MxDaneInput& in,
                                                          const std::string& address) {
  const dane::AddressProbe* probe = nullptr;
  for (const auto& p : in.addresses) {
    if (p.address == address) probe = &p;
  }
  std::vector<AddressReport::KeyTypeMatch> out;
  for (const auto& k : a.key_types) {
    AddressReport::KeyTypeMatch m;
    m.key_type = std::string(tls::to_string(k.key_type));
    m.dane_match = k.authenticated;
    if (!k.authenticated) m.dane_result_type = std::string(dane::to_string(k.result_type));
    if (probe != nullptr && probe->key_type == k.key_type) m.spki_sha256 = spki_of(probe->chain);
    if (probe != nullptr) {
      for (const auto& o : probe->other_key_types) {
        if (o.key_type == k.key_type) m.spki_sha256 = spki_of(o.chain);
      }
    }
    out.push_back(std::move(m));
  }
  return out;
}

}  // namespace

void assess_dane(DomainReport& r, const std::vector<dns::TlsaBaseDomainResult>& hosts,
                 const std::vector<smtp::StarttlsResult>& results,
                 const std::vector<std::pair<size_t, std::string>>& owner,
                 const dns::MxResolution& mx, SystemTime now,
                 const std::vector<std::optional<smtp::StarttlsResult>>& other_key_types) {
  dane::DomainDaneInput in;
  in.domain = r.domain;
  in.mx_lookup_failed = mx.status == dns::MxStatus::kLookupFailed;
  in.mx_secure = mx.mx_answer.security == dns::Security::kSecure;
  for (size_t i = 0; i < hosts.size() && i < r.mx.size(); ++i) {
    dane::MxDaneInput m;
    m.host = hosts[i].host;
    m.applicability = hosts[i].applicability;
    m.base_domain = hosts[i].base_domain;
    m.records = hosts[i].tlsa_records;
    for (size_t t = 0; t < results.size() && t < owner.size(); ++t) {
      if (owner[t].first != i) continue;
      const auto& s = results[t];
      // "Reached" means the SMTP dialogue got as far as EHLO.
      const bool reached = s.connect_ok && s.phase != smtp::StarttlsPhase::kConnect &&
                           s.phase != smtp::StarttlsPhase::kBanner;
      dane::AddressProbe p{s.address, reached, s.starttls_offered, s.starttls_ok, s.chain, s.key_type, {}};
      if (t < other_key_types.size() && other_key_types[t] && other_key_types[t]->key_type_limit) {
        const auto& o = *other_key_types[t];
        if (smtp::key_type_offer(o, *o.key_type_limit) == smtp::KeyTypeOffer::kOffered) {
          p.other_key_types.push_back({*o.key_type_limit, o.chain});
        }
      }
      m.addresses.push_back(std::move(p));
    }
    in.mx.push_back(std::move(m));
  }
  const auto verdict = dane::assess_domain_dane(in, now);

  for (size_t i = 0; i < verdict.mx.size() && i < r.mx.size(); ++i) {
    const auto& v = verdict.mx[i];
    auto& m = r.mx[i];
    const auto& records = in.mx[i].records;
    for (size_t k = 0; k < records.size(); ++k) {
      TlsaRecordReport t;
      t.record = records[k];
      if (k < v.usability.size()) {
        t.usable = v.usability[k].usable;
        if (!t.usable) t.unusable_reason = std::string(dane::to_string(v.usability[k].unusable_reason));
      }
      for (size_t a = 0; a < v.addresses.size(); ++a) {
        const bool matched = k < v.record_matches.size() && a < v.record_matches[k].size() && v.record_matches[k][a];
        if (v.addresses[a].dane_applies) t.matches[v.addresses[a].address] = matched;
      }
      m.tlsa.push_back(std::move(t));
    }
    m.tlsa_usable = v.usable_records;
    m.rollover_ready = v.rollover_ready;
    m.rollover_reason = std::string(dane::to_string(v.rollover));
    for (const auto& a : v.addresses) {
      for (auto& report : m.addresses) {
        if (report.address != a.address) continue;
        report.dane_applies = a.dane_applies;
        // dane_match: a DANE sender delivers here (authenticated, or TLS where no record is
        // usable: RFC 7672 §2.2.3).
        report.dane_match = a.dane_applies && a.delivers;
        if (a.dane_applies && !a.delivers) report.dane_result_type = std::string(dane::to_string(a.result_type));
        report.key_types = key_type_matches(a, in.mx[i], report.address);
      }
    }
  }
  r.dane_status = std::string(dane::to_string(verdict.status));
  r.dane_partial = verdict.partial_coverage;
}

}  // namespace mailtls::domain
