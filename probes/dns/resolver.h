#pragma once
// The resolver seam: every DNS question a probe asks goes through Resolver::lookup, so unit
// tests script answers with a fake and end-to-end tests use libunbound against the Knot world.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "probes/base/clock.h"
#include "probes/base/deadline.h"

namespace mailtls::dns {

enum class RrType : std::uint16_t {
  kA = 1,
  kCname = 5,
  kMx = 15,
  kTxt = 16,
  kAaaa = 28,
  kTlsa = 52,
};
std::string_view to_string(RrType t);  // "A", "CNAME", "MX", ...

// RFC 4035 §4.3 security states, classified from libunbound's result as docs/verdicts.md D3 says.
// kIndeterminate: the question could not be answered (SERVFAIL, timeout, local error); like
// bogus it is a lookup failure for a DANE sender (RFC 7672 §2.1.2), never "insecure".
enum class Security { kSecure, kInsecure, kBogus, kIndeterminate };
std::string_view to_string(Security s);  // "secure", "insecure", "bogus", "indeterminate"

enum class Outcome {
  kData,      // records of the asked type exist (after CNAME expansion)
  kNoData,    // the name exists, no records of this type
  kNxDomain,  // the name does not exist
  kError,     // no usable answer: SERVFAIL, REFUSED, timeout, local failure, or bogus
};
std::string_view to_string(Outcome o);  // "data", "nodata", "nxdomain", "error"

struct Answer {
  std::string qname;           // as asked, lower case, no trailing dot
  RrType type = RrType::kA;
  Outcome outcome = Outcome::kError;
  Security security = Security::kIndeterminate;
  int rcode = -1;              // DNS rcode when a reply came, -1 otherwise
  std::string canonical_name;  // owner of the records after CNAME/DNAME expansion; == qname without
  std::vector<std::string> rdata;  // wire-format RDATA of each record (bytes); empty unless kData
  std::uint32_t ttl = 0;
  // Earliest RRSIG expiration over the signatures covering the answer RRset (read from the answer
  // packet); empty when the answer is unsigned or there is none.
  std::optional<SystemTime> earliest_rrsig_expiry;
  // The RRSIGs' Original TTL for the answer RRset: how long senders may cache it (the TTL above
  // is the resolver's remaining time). Empty when the answer is unsigned.
  std::optional<std::uint32_t> rrsig_original_ttl;
  std::string reason;          // why_bogus, the timeout, or ub_strerror; empty when all is well

  // True when the records may be used: data that is not bogus.
  bool usable() const { return outcome == Outcome::kData && security != Security::kBogus; }
  // True when the answer is an error for a DANE sender: bogus or indeterminate.
  bool failed() const {
    return security == Security::kBogus || security == Security::kIndeterminate ||
           outcome == Outcome::kError;
  }
};

class Resolver {
 public:
  virtual ~Resolver() = default;
  // Thread-safe: many probes call it at once. Never waits past `deadline`; on timeout it returns
  // outcome kError, security kIndeterminate and reason "timeout".
  virtual Answer lookup(std::string_view name, RrType type, Deadline deadline) = 0;
};

}  // namespace mailtls::dns
