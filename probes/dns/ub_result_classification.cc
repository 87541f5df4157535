#include "probes/dns/ub_result_classification.h"

#include <cctype>

#include "probes/dns/dns_name.h"
#include "probes/dns/rrsig_expiry.h"

namespace mailtls::dns {
namespace {

std::string rcode_reason(int rcode) {
  switch (rcode) {
    case 1: return "rcode FORMERR";
    case 2: return "rcode SERVFAIL";
    case 4: return "rcode NOTIMP";
    case 5: return "rcode REFUSED";
    default: return "rcode " + std::to_string(rcode);
  }
}

}  // namespace

std::string normalize_name(std::string_view name) {
  // A trailing "\." is part of the last label, not the root.
  for (auto trimmed = without_root_dot(name); trimmed.size() != name.size();
       trimmed = without_root_dot(name)) {
    name = trimmed;
  }
  std::string out(name);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

Answer classify_ub_result(std::string_view qname, RrType type, const UbResultFields& r,
                          SystemTime now) {
  Answer a;
  a.qname = normalize_name(qname);
  a.type = type;
  a.canonical_name = a.qname;
  a.outcome = Outcome::kError;
  a.security = Security::kIndeterminate;
  if (r.err != 0 || !r.have_result) {
    a.reason = r.err_text.empty() ? "no result" : r.err_text;
    return a;
  }
  a.rcode = r.rcode;
  // libunbound's canonname prints every octet but letters, digits, '-', '_' and '*' as '?',
  // so a name with others (legal in DNS) would look like an alias of a different name. The
  // CNAME chain in the answer itself says where the answer ended.
  if (auto c = canonical_name_in_message(r.answer_packet, a.qname)) {
    a.canonical_name = std::move(*c);
  } else if (!r.canonname.empty() && is_host_name(r.canonname)) {
    a.canonical_name = normalize_name(r.canonname);
  }
  // The signatures are read whatever the verdict: an expired RRSIG behind a bogus answer is
  // exactly what an operator wants to see.
  if (!r.answer_packet.empty()) {
    a.earliest_rrsig_expiry =
        earliest_rrsig_expiry(r.answer_packet, static_cast<std::uint16_t>(type), now);
    a.rrsig_original_ttl = rrsig_original_ttl(r.answer_packet, static_cast<std::uint16_t>(type));
  }
  if (r.bogus) {
    // libunbound hands bogus data over with NOERROR (mesh.c); it must never be used, and its
    // TTL cannot be trusted either.
    a.security = Security::kBogus;
    a.reason = r.why_bogus.empty() ? "bogus" : r.why_bogus;
    return a;
  }
  if (r.rcode != 0 && r.rcode != 3) {
    a.reason = rcode_reason(r.rcode);
    return a;
  }
  if (r.was_ratelimited) {
    a.reason = "rate limited";
    return a;
  }
  a.security = r.secure ? Security::kSecure : Security::kInsecure;
  a.ttl = r.ttl > 0 ? static_cast<std::uint32_t>(r.ttl) : 0;
  if (r.havedata) {
    a.outcome = Outcome::kData;
    a.rdata = r.data;
  } else if (r.nxdomain || r.rcode == 3) {
    a.outcome = Outcome::kNxDomain;
  } else {
    a.outcome = Outcome::kNoData;
  }
  return a;
}

}  // namespace mailtls::dns
