#include "probes/dns/tlsa_base_domain.h"

#include <algorithm>

#include "probes/dns/ub_result_classification.h"

namespace mailtls::dns {

std::string_view to_string(DaneApplicability d) {
  switch (d) {
    case DaneApplicability::kDaneAppliesUsable: return "dane-usable";
    case DaneApplicability::kDaneAppliesNoneUsable: return "dane-none-usable";
    case DaneApplicability::kNotApplicableInsecure: return "na-insecure";
    case DaneApplicability::kNotApplicableNoTlsa: return "na-no-tlsa";
    case DaneApplicability::kLookupFailed: return "lookup-failed";
  }
  return "lookup-failed";
}

bool tlsa_record_usable_for_smtp(const TlsaRecord& r) {
  if (r.usage != 2 && r.usage != 3) return false;
  if (r.selector != 0 && r.selector != 1) return false;
  switch (r.matching_type) {
    case 0: return !r.data.empty();
    case 1: return r.data.size() == 32;
    case 2: return r.data.size() == 64;
    default: return false;
  }
}

namespace {

std::string failure_text(const Answer& a) {
  std::string s = a.qname + " " + std::string(to_string(a.type)) + " " +
                  std::string(to_string(a.security));
  if (!a.reason.empty()) s += ": " + a.reason;
  return s;
}

void add_addresses(const Answer& a, int family, std::vector<HostAddress>& out) {
  if (a.outcome != Outcome::kData) return;
  for (std::string& ip : decode_address(a).records) out.push_back({std::move(ip), family});
}

}  // namespace

TlsaBaseDomainResult find_tlsa_base_domain(Resolver& resolver, std::string_view mx_host,
                                           Deadline deadline, std::uint16_t port) {
  TlsaBaseDomainResult out;
  out.host = normalize_name(mx_host);
  out.canonical_name = out.host;

  // M7: addresses before TLSA.
  const Answer a = resolver.lookup(out.host, RrType::kA, deadline);
  const Answer aaaa = resolver.lookup(out.host, RrType::kAaaa, deadline);
  out.answers.push_back(a);
  out.answers.push_back(aaaa);
  for (const Answer* ans : {&a, &aaaa}) {
    if (ans->failed()) {
      out.applicability = DaneApplicability::kLookupFailed;
      out.reason = "address lookup failed: " + failure_text(*ans);
      return out;
    }
  }
  add_addresses(a, 4, out.addresses);
  add_addresses(aaaa, 6, out.addresses);
  if (out.addresses.empty()) {
    out.applicability = DaneApplicability::kLookupFailed;
    out.reason = "no A or AAAA records: the MX host is unreachable";
    return out;
  }
  out.addresses_secure = a.security == Security::kSecure && aaaa.security == Security::kSecure;
  for (const Answer* ans : {&a, &aaaa}) {
    if (ans->outcome == Outcome::kData && ans->canonical_name != out.host) {
      out.canonical_name = ans->canonical_name;
      break;
    }
  }
  const bool alias = out.canonical_name != out.host;

  // D6: libunbound's `secure` covers the whole chain; only a separate CNAME query tells whether
  // the zone holding the first CNAME is signed (needed for T2 case c).
  if (alias) {
    const Answer cname = resolver.lookup(out.host, RrType::kCname, deadline);
    out.answers.push_back(cname);
    if (cname.failed()) {
      out.applicability = DaneApplicability::kLookupFailed;
      out.reason = "CNAME lookup failed: " + failure_text(cname);
      return out;
    }
    out.initial_cname_secure =
        cname.security == Security::kSecure && cname.outcome == Outcome::kData;
  }

  // T2: the candidates. Names in the middle of a chain are never candidates.
  if (out.addresses_secure) {
    if (alias) out.candidates.push_back(out.canonical_name);
    out.candidates.push_back(out.host);
  } else if (alias && out.initial_cname_secure) {
    out.candidates.push_back(out.host);
  } else {
    out.applicability = DaneApplicability::kNotApplicableInsecure;
    out.reason = alias ? "address records and the initial CNAME are insecure"
                       : "address records are insecure";
    return out;
  }

  bool insecure_tlsa = false;
  // Built by appending: GCC 12 warns (-Wrestrict, a false positive) on "_" + std::string.
  std::string prefix = "_";
  prefix += std::to_string(port);
  prefix += "._tcp.";
  for (const std::string& candidate : out.candidates) {
    Answer tlsa = resolver.lookup(prefix + candidate, RrType::kTlsa, deadline);
    out.answers.push_back(tlsa);
    out.tlsa_answer = tlsa;
    if (tlsa.failed()) {
      // RFC 7672 §2.1.2: a failed TLSA lookup makes the host unusable for DANE senders; it is
      // never read as "no TLSA".
      out.applicability = DaneApplicability::kLookupFailed;
      out.reason = "TLSA lookup failed: " + failure_text(tlsa);
      return out;
    }
    if (tlsa.outcome != Outcome::kData) continue;  // proven absence here: try the next one
    if (tlsa.security != Security::kSecure) {
      insecure_tlsa = true;  // B5: records that no validating sender can use
      continue;
    }
    // T3: a CNAME at the TLSA owner name was followed by the resolver; the base domain stays.
    out.base_domain = candidate;
    Decoded<TlsaRecord> decoded = decode_tlsa(tlsa);
    out.tlsa_records = std::move(decoded.records);
    out.tlsa_malformed = decoded.malformed;
    const bool any_usable = std::any_of(out.tlsa_records.begin(), out.tlsa_records.end(),
                                        tlsa_record_usable_for_smtp);
    out.applicability = any_usable ? DaneApplicability::kDaneAppliesUsable
                                   : DaneApplicability::kDaneAppliesNoneUsable;
    return out;
  }
  if (insecure_tlsa) {
    out.applicability = DaneApplicability::kNotApplicableInsecure;
    out.reason = "TLSA records exist but are not secure";
  } else {
    out.applicability = DaneApplicability::kNotApplicableNoTlsa;
    out.reason = "no TLSA records";
  }
  return out;
}

}  // namespace mailtls::dns
