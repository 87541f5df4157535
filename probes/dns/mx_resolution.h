#pragma once
// The MX step of delivery (docs/verdicts.md M1-M3): which hosts a sender would try, in order.

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "probes/base/deadline.h"
#include "probes/dns/records.h"
#include "probes/dns/resolver.h"

namespace mailtls::dns {

enum class MxStatus {
  kMxRecords,      // ordinary MX hosts
  kNullMx,         // "MX 0 ." only (RFC 7505): the domain accepts no mail
  kInvalidNullMx,  // a null MX beside other MX records (RFC 7505 §3 forbids it); hosts = the others
  kImplicitMx,     // no MX RRset: the domain itself is the host (RFC 5321 §5.1)
  kNxDomain,       // the domain does not exist
  kLookupFailed,   // bogus, indeterminate, or an error: validating senders defer (RFC 7672 §2.1.2)
};
std::string_view to_string(MxStatus s);  // "mx", "null-mx", "invalid-null-mx", ...

struct MxResolution {
  std::string domain;            // lower case, no trailing dot
  MxStatus status = MxStatus::kLookupFailed;
  std::vector<MxRecord> hosts;   // by preference, then name; {0, domain} for an implicit MX
  Answer mx_answer;              // the MX RRset answer as received (its DNSSEC state is reported)
  int malformed = 0;             // MX records that could not be decoded
  std::string reason;            // why the lookup failed
};

MxResolution resolve_mx(Resolver& resolver, std::string_view domain, Deadline deadline);

}  // namespace mailtls::dns
