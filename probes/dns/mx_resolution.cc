#include "probes/dns/mx_resolution.h"

#include <algorithm>

#include "probes/dns/ub_result_classification.h"

namespace mailtls::dns {

std::string_view to_string(MxStatus s) {
  switch (s) {
    case MxStatus::kMxRecords: return "mx";
    case MxStatus::kNullMx: return "null-mx";
    case MxStatus::kInvalidNullMx: return "invalid-null-mx";
    case MxStatus::kImplicitMx: return "implicit-mx";
    case MxStatus::kNxDomain: return "nxdomain";
    case MxStatus::kLookupFailed: return "lookup-failed";
  }
  return "lookup-failed";
}

MxResolution resolve_mx(Resolver& resolver, std::string_view domain, Deadline deadline) {
  MxResolution out;
  out.domain = normalize_name(domain);
  out.mx_answer = resolver.lookup(out.domain, RrType::kMx, deadline);
  const Answer& a = out.mx_answer;
  if (a.failed()) {
    out.status = MxStatus::kLookupFailed;
    out.reason = a.reason.empty() ? std::string(to_string(a.security)) : a.reason;
    return out;
  }
  if (a.outcome == Outcome::kNxDomain) {
    out.status = MxStatus::kNxDomain;
    return out;
  }
  if (a.outcome == Outcome::kNoData) {
    out.status = MxStatus::kImplicitMx;
    out.hosts.push_back(MxRecord{0, out.domain});
    return out;
  }
  Decoded<MxRecord> decoded = decode_mx(a);
  out.malformed = decoded.malformed;
  bool null_mx = false;
  for (MxRecord& mx : decoded.records) {
    if (mx.host.empty()) {
      null_mx = true;
    } else {
      out.hosts.push_back(std::move(mx));
    }
  }
  std::sort(out.hosts.begin(), out.hosts.end(), [](const MxRecord& x, const MxRecord& y) {
    return x.preference != y.preference ? x.preference < y.preference : x.host < y.host;
  });
  out.hosts.erase(std::unique(out.hosts.begin(), out.hosts.end()), out.hosts.end());
  if (null_mx) {
    out.status = out.hosts.empty() ? MxStatus::kNullMx : MxStatus::kInvalidNullMx;
  } else if (out.hosts.empty()) {
    out.status = MxStatus::kLookupFailed;  // an MX RRset with nothing decodable in it
    out.reason = "every MX record was malformed";
  } else {
    out.status = MxStatus::kMxRecords;
  }
  return out;
}

}  // namespace mailtls::dns
