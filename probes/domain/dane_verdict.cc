#include "probes/domain/dane_verdict.h"

#include <set>

#include "probes/domain/tlsa_chain_match.h"

namespace mailtls::domain {

std::string tlsa_unusable_reason(const dns::TlsaRecord& r) {
  if (r.usage == 0 || r.usage == 1) return "PKIX usage, undefined for SMTP (RFC 7672 §3.1.3)";
  if (r.usage != 2 && r.usage != 3) return "unknown usage";
  if (r.selector > 1) return "unknown selector";
  if (r.matching_type > 2) return "unknown matching type";
  if (r.data.empty()) return "empty data";
  if ((r.matching_type == 1 && r.data.size() != 32) || (r.matching_type == 2 && r.data.size() != 64)) {
    return "digest length does not fit the matching type";
  }
  return "";
}

void assess_dane(DomainReport& r, const std::vector<dns::TlsaBaseDomainResult>& hosts,
                 const std::vector<smtp::StarttlsResult>& results,
                 const std::vector<std::pair<size_t, std::string>>& owner,
                 const dns::MxResolution& mx, SystemTime now) {
  const bool mx_secure = mx.mx_answer.security == dns::Security::kSecure;
  bool lookup_failed = mx.status == dns::MxStatus::kLookupFailed;
  int with_dane = 0, without_dane = 0, pass = 0, fail = 0;

  for (size_t i = 0; i < r.mx.size() && i < hosts.size(); ++i) {
    auto& m = r.mx[i];
    const auto& h = hosts[i];
    if (m.dane_state == "lookup_failed") lookup_failed = true;
    if (m.dane_state != "usable" && m.dane_state != "none_usable") {
      ++without_dane;
      continue;
    }
    ++with_dane;
    // Reference identifiers for DANE-TA name checks (RFC 7672 §3.2.2).
    std::vector<std::string> names = {h.base_domain};
    if (mx_secure) names.push_back(r.domain);
    for (const auto& rec : h.tlsa_records) {
      TlsaRecordReport t;
      t.record = rec;
      t.unusable_reason = tlsa_unusable_reason(rec);
      t.usable = t.unusable_reason.empty();
      m.tlsa_usable += t.usable ? 1 : 0;
      m.tlsa.push_back(std::move(t));
    }
    bool ta_on_every_address = true, any_chain = false;
    std::set<size_t> leaf_matching_ee;  // indexes of 3 x x records matching a presented leaf
    for (size_t t = 0; t < results.size() && t < owner.size(); ++t) {
      if (owner[t].first != i) continue;
      const auto& s = results[t];
      AddressReport* a = nullptr;
      for (auto& cand : m.addresses) {
        if (cand.address == s.address) a = &cand;
      }
      if (a == nullptr) continue;
      a->dane_applies = true;
      if (!s.starttls_ok) {
        a->dane_match = false;
        a->dane_result_type = s.connect_ok && !s.starttls_offered ? "starttls-not-supported" : "validation-failure";
        ++fail;
        ta_on_every_address = false;
        for (auto& t2 : m.tlsa) t2.matches[s.address] = false;
        continue;
      }
      if (m.dane_state == "none_usable") {
        a->dane_match = true;  // TLS is mandatory, authentication impossible: TLS suffices
        ++pass;
        for (auto& t2 : m.tlsa) t2.matches[s.address] = false;
        continue;
      }
      any_chain = true;
      const auto match = match_chain(s.chain_der, h.tlsa_records, names, now);
      a->dane_match = match.authenticated;
      a->dane_result_type = match.result_type;
      bool ta_here = false;
      for (size_t k = 0; k < m.tlsa.size() && k < match.records.size(); ++k) {
        m.tlsa[k].matches[s.address] = match.records[k].authenticates;
        if (m.tlsa[k].record.usage == 2 && match.records[k].counts && match.records[k].authenticates) ta_here = true;
        if (m.tlsa[k].record.usage == 3 && match.records[k].data_matches) leaf_matching_ee.insert(k);
      }
      ta_on_every_address = ta_on_every_address && ta_here;
      (a->dane_match ? pass : fail)++;
    }
    // Rollover readiness (RFC 7671 §8; STANDARDS Addendum): a DANE-TA record that authenticates
    // everywhere survives a leaf key change; otherwise a distinct usable 3 x x record that
    // matches no presented key must be published next to one that does (the next key).
    if (m.dane_state == "usable" && any_chain) {
      if (ta_on_every_address) {
        m.rollover_ready = true;
        m.rollover_reason = "a DANE-TA (2 x x) record authenticates every address";
      } else {
        std::set<std::vector<std::uint8_t>> current, next;
        for (size_t k = 0; k < m.tlsa.size(); ++k) {
          const auto& t = m.tlsa[k];
          if (!t.usable || t.record.usage != 3) continue;
          (leaf_matching_ee.count(k) ? current : next).insert(t.record.data);
        }
        for (const auto& d : current) next.erase(d);
        m.rollover_ready = !current.empty() && !next.empty();
        m.rollover_reason = m.rollover_ready
                                ? "a second DANE-EE key is published besides the one in use"
                                : current.empty() ? "no DANE-EE record matches the key in use"
                                                  : "only the key in use is published: a new key would break DANE";
      }
    }
  }
  r.dane_partial = with_dane > 0 && without_dane > 0;
  if (lookup_failed) {
    r.dane_status = "bogus";
  } else if (with_dane == 0) {
    r.dane_status = "not_deployed";
  } else if (fail == 0 && pass > 0) {
    r.dane_status = "valid";
  } else if (pass == 0) {
    r.dane_status = "broken";
  } else {
    r.dane_status = "degraded";
  }
}

}  // namespace mailtls::domain
