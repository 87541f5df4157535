#include "probes/dane/dane_assessment.h"

#include <algorithm>
#include <map>

namespace mailtls::dane {

std::string to_string(const TlsaGroup& g) {
  return std::to_string(g.usage) + " " + std::to_string(g.selector) + " " + std::to_string(g.matching_type);
}

std::string_view to_string(RolloverReadiness r) {
  switch (r) {
    case RolloverReadiness::kNotApplicable: return "na";
    case RolloverReadiness::kTrustAnchorMatches: return "trust-anchor";
    case RolloverReadiness::kNextKeyPublished: return "next-key-published";
    case RolloverReadiness::kOnlyCurrentKey: return "only-current-key";
    case RolloverReadiness::kNoCurrentMatch: return "no-current-match";
  }
  return "na";
}

std::string_view to_string(DaneStatus s) {
  switch (s) {
    case DaneStatus::kValid: return "valid";
    case DaneStatus::kDegraded: return "degraded";
    case DaneStatus::kBroken: return "broken";
    case DaneStatus::kNotDeployed: return "not_deployed";
    case DaneStatus::kBogus: return "bogus";
  }
  return "bogus";
}

namespace {

bool dane_applies(dns::DaneApplicability a) {
  return a == dns::DaneApplicability::kDaneAppliesUsable || a == dns::DaneApplicability::kDaneAppliesNoneUsable;
}

std::vector<bool> record_matches_of(const ChainMatch& m) {
  std::vector<bool> out;
  for (const auto& r : m.records) out.push_back(r.data_matches);
  return out;
}

AddressDaneResult assess_address(const AddressProbe& probe, const MxDaneInput& mx, int usable,
                                 const std::vector<std::string>& names, SystemTime now) {
  AddressDaneResult a;
  a.address = probe.address;
  if (mx.applicability == dns::DaneApplicability::kLookupFailed) {
    a.result_type = DaneResultType::kDnssecInvalid;
    a.message = "the MX host's address or TLSA lookup failed: DANE senders treat it as unreachable";
    return a;
  }
  if (!dane_applies(mx.applicability)) {
    a.result_type = DaneResultType::kNotApplicable;
    return a;
  }
  a.dane_applies = true;
  if (!probe.reached) {
    a.result_type = DaneResultType::kProbeError;
    a.message = "the address could not be reached";
    return a;
  }
  if (!probe.starttls_offered) {
    a.result_type = DaneResultType::kStarttlsNotSupported;
    a.message = "STARTTLS not offered, but a secure TLSA RRset makes it mandatory";
    return a;
  }
  if (!probe.handshake_ok) {
    a.result_type = DaneResultType::kValidationFailure;
    a.message = "the TLS handshake failed";
    return a;
  }
  if (!probe.chain.empty()) a.chain_match = match_chain(probe.chain, mx.records, names, now);
  if (usable == 0) {
    // Only unusable records: TLS is mandatory, authentication is impossible (RFC 7671 §10.3).
    a.delivers = true;
    a.result_type = DaneResultType::kOk;
    a.message = "no usable TLSA record: unauthenticated TLS accepted";
    return a;
  }
  if (!a.chain_match) {
    a.result_type = DaneResultType::kValidationFailure;
    a.message = "no certificate presented";
    return a;
  }
  a.authenticated = a.chain_match->authenticated;
  a.delivers = a.authenticated;
  a.some_key_type_delivers = a.authenticated;
  a.matched_record = a.chain_match->matched_record;
  a.result_type = a.chain_match->result_type;
  a.message = a.chain_match->message;
  if (probe.key_type) {
    a.key_types.push_back({*probe.key_type, a.authenticated, a.result_type, a.message,
                           record_matches_of(*a.chain_match)});
  }
  for (const auto& other : probe.other_key_types) {
    const ChainMatch m = match_chain(other.chain, mx.records, names, now);
    a.key_types.push_back({other.key_type, m.authenticated, m.result_type, m.message, record_matches_of(m)});
    a.some_key_type_delivers = a.some_key_type_delivers || m.authenticated;
    if (m.authenticated || !a.delivers) continue;
    // The first chain authenticates, this one does not: a sender offered it fails (T14).
    a.delivers = false;
    a.result_type = m.result_type;
    a.message = "the " + std::string(tls::to_string(other.key_type)) + " certificate: " + m.message;
  }
  return a;
}

void assess_rollover(MxDaneResult& r, const std::vector<dns::TlsaRecord>& records) {
  r.rollover = RolloverReadiness::kNotApplicable;
  r.rollover_ready = false;
  if (r.usable_records == 0 || !r.any_chain) return;
  std::vector<const ChainMatch*> matches;
  for (const auto& a : r.addresses) {
    if (a.chain_match) matches.push_back(&*a.chain_match);
  }
  // A DANE-TA record that authenticates every presented chain survives a leaf key change.
  const bool ta_everywhere = std::all_of(matches.begin(), matches.end(), [&](const ChainMatch* m) {
    for (size_t i = 0; i < records.size(); ++i) {
      if (records[i].usage == 2 && m->records[i].authenticates) return true;
    }
    return false;
  });
  if (ta_everywhere) {
    r.rollover = RolloverReadiness::kTrustAnchorMatches;
    r.rollover_ready = true;
    return;
  }
  auto counted_ee = [&](size_t i) { return records[i].usage == 3 && r.usability[i].counts; };
  const bool ee_everywhere = std::all_of(matches.begin(), matches.end(), [&](const ChainMatch* m) {
    for (size_t i = 0; i < records.size(); ++i) {
      if (counted_ee(i) && m->records[i].authenticates) return true;
    }
    return false;
  });
  if (!ee_everywhere) {
    r.rollover = RolloverReadiness::kNoCurrentMatch;
    return;
  }
  // The next key: a counted DANE-EE record that matches no presented leaf and is not a copy of
  // a record that does (Addendum; internet.nl #1206).
  std::vector<const dns::TlsaRecord*> current;
  for (size_t i = 0; i < records.size(); ++i) {
    if (counted_ee(i) && !r.record_stale[i]) current.push_back(&records[i]);
  }
  for (size_t i = 0; i < records.size(); ++i) {
    if (!counted_ee(i) || !r.record_stale[i]) continue;
    const bool duplicate = std::any_of(current.begin(), current.end(), [&](const dns::TlsaRecord* c) {
      return c->selector == records[i].selector && c->matching_type == records[i].matching_type &&
             c->data == records[i].data;
    });
    if (!duplicate) {
      r.rollover = RolloverReadiness::kNextKeyPublished;
      r.rollover_ready = true;
      return;
    }
  }
  r.rollover = RolloverReadiness::kOnlyCurrentKey;
}

}  // namespace

MxDaneResult assess_mx_dane(const MxDaneInput& in, const std::vector<std::string>& next_hop_names,
                            SystemTime now) {
  MxDaneResult r;
  r.host = in.host;
  r.applicability = in.applicability;
  // RFC 7672 §3.2.2 (DANE-TA(2) name checks; §3.2.3 says how a name is matched; docs/verdicts.md
  // T9): the TLSA base domain, then the next-hop domain and its CNAME expansion (secure MX
  // RRset only). The MX host name is the base domain unless TLSA records were found at its CNAME
  // expansion; it is then not a reference identifier (nor for Postfix, whose DANE-TA name list
  // is the base domain and the MX lookup's query and answer names).
  r.reference_names.push_back(in.base_domain.empty() ? in.host : in.base_domain);
  for (const auto& n : next_hop_names) {
    if (!n.empty() && std::find(r.reference_names.begin(), r.reference_names.end(), n) == r.reference_names.end()) {
      r.reference_names.push_back(n);
    }
  }
  r.usability = classify_tlsa_records(in.records);
  r.usable_records = count_usable(r.usability);
  r.record_matches.assign(in.records.size(), std::vector<bool>(in.addresses.size(), false));
  r.record_stale.assign(in.records.size(), false);

  for (size_t k = 0; k < in.addresses.size(); ++k) {
    r.addresses.push_back(assess_address(in.addresses[k], in, r.usable_records, r.reference_names, now));
    const auto& cm = r.addresses.back().chain_match;
    if (!cm) continue;
    r.any_chain = true;
    for (size_t i = 0; i < in.records.size(); ++i) {
      // A record for the key of any key type presented here is in use (T11, T14).
      bool any = cm->records[i].data_matches;
      for (const auto& kt : r.addresses.back().key_types) any = any || kt.record_matches[i];
      r.record_matches[i][k] = any;
    }
  }
  if (!dane_applies(in.applicability)) return r;

  // Staleness (F2, T11) needs at least one presented chain to compare with.
  std::map<TlsaGroup, bool> group_matches;
  if (r.any_chain) {
    for (size_t i = 0; i < in.records.size(); ++i) {
      if (!r.usability[i].usable) continue;
      const auto& m = r.record_matches[i];
      r.record_stale[i] = std::none_of(m.begin(), m.end(), [](bool b) { return b; });
      const auto& rec = in.records[i];
      bool& g = group_matches[{rec.usage, rec.selector, rec.matching_type}];
      g = g || !r.record_stale[i];
    }
  }
  for (const auto& [group, matched] : group_matches) {
    if (!matched) r.stale_groups.push_back(group);
  }
  r.all_deliver = !r.addresses.empty() &&
                  std::all_of(r.addresses.begin(), r.addresses.end(), [](const AddressDaneResult& a) { return a.delivers; });
  assess_rollover(r, in.records);
  return r;
}

DomainDaneResult assess_domain_dane(const DomainDaneInput& in, SystemTime now) {
  DomainDaneResult out;
  std::vector<std::string> next_hop_names;
  if (in.mx_secure) {
    next_hop_names.push_back(in.domain);
    next_hop_names.insert(next_hop_names.end(), in.extra_next_hop_names.begin(), in.extra_next_hop_names.end());
  }
  bool lookup_failed = in.mx_lookup_failed;
  for (const auto& mx : in.mx) {
    out.mx.push_back(assess_mx_dane(mx, next_hop_names, now));
    if (mx.applicability == dns::DaneApplicability::kLookupFailed) {
      lookup_failed = true;  // neither with nor without DANE: unknown
      continue;
    }
    if (!dane_applies(mx.applicability)) {
      ++out.mx_without_dane;
      continue;
    }
    ++out.mx_with_dane;
    const auto& r = out.mx.back();
    if (r.addresses.empty()) ++out.addresses_failing;  // DANE MX with nothing probed
    for (const auto& a : r.addresses) {
      (a.delivers ? out.addresses_delivering : out.addresses_failing)++;
      if (!a.delivers && a.some_key_type_delivers) ++out.addresses_failing_one_key_type;
    }
  }
  out.partial_coverage = out.mx_with_dane > 0 && out.mx_without_dane > 0;
  if (lookup_failed) {
    out.status = DaneStatus::kBogus;
  } else if (out.mx_with_dane == 0) {
    out.status = DaneStatus::kNotDeployed;
  } else if (out.addresses_failing == 0) {
    out.status = DaneStatus::kValid;
  } else if (out.addresses_delivering == 0 && out.addresses_failing_one_key_type == 0) {
    out.status = DaneStatus::kBroken;
  } else {
    out.status = DaneStatus::kDegraded;
  }
  return out;
}

}  // namespace mailtls::dane
