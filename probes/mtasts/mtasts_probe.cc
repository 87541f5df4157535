#include "probes/mtasts/mtasts_probe.h"

#include "probes/dns/records.h"

namespace mailtls::mtasts {

StsTxtLookup lookup_sts_txt(dns::Resolver& resolver, std::string_view policy_domain,
                            Deadline deadline) {
  StsTxtLookup l;
  std::string domain(policy_domain);
  if (domain.ends_with('.')) domain.pop_back();
  l.qname = "_mta-sts." + domain;
  const dns::Answer a = resolver.lookup(l.qname, dns::RrType::kTxt, deadline);
  l.outcome = a.outcome;
  l.security = a.security;
  if (a.outcome == dns::Outcome::kError || a.security == dns::Security::kBogus ||
      a.security == dns::Security::kIndeterminate) {
    l.lookup_failed = true;
    l.lookup_error = "TXT lookup of " + l.qname + " failed: " +
                     std::string(dns::to_string(a.outcome)) + ", " +
                     std::string(dns::to_string(a.security)) +
                     (a.reason.empty() ? "" : " (" + a.reason + ")");
    l.txt.error = StsTxtError::kNoRecord;
    l.txt.message = l.lookup_error;
    return l;
  }
  if (a.outcome != dns::Outcome::kData) {
    l.txt.error = StsTxtError::kNoRecord;
    l.txt.message = "no TXT record at " + l.qname + " (" + std::string(dns::to_string(a.outcome)) + ")";
    return l;
  }
  const auto decoded = dns::decode_txt(a);
  l.malformed = decoded.malformed;
  l.txt = select_sts_txt_record(decoded.records);
  if (decoded.malformed > 0) {
    l.txt.warnings.push_back(std::to_string(decoded.malformed) + " malformed TXT record(s) skipped");
  }
  return l;
}

MtaStsProbeResult probe_mtasts(dns::Resolver& resolver, PolicyFetcher& fetcher,
                               std::string_view policy_domain, Deadline deadline) {
  MtaStsProbeResult r;
  r.policy_domain = std::string(policy_domain);
  r.txt = lookup_sts_txt(resolver, policy_domain, deadline);
  if (r.txt.lookup_failed || r.txt.txt.error == StsTxtError::kNoRecord) return r;
  r.fetch = fetcher.fetch(policy_domain, deadline);
  if (r.fetch->ok) r.policy = parse_sts_policy(r.fetch->body);
  return r;
}

}  // namespace mailtls::mtasts
