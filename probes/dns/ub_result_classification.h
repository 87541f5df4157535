#pragma once
// docs/verdicts.md D3: how one libunbound result becomes an Answer. A pure function over the
// fields of `struct ub_result`, so every row of the table is unit-tested without a network.

#include <string>
#include <vector>

#include "probes/base/clock.h"
#include "probes/dns/resolver.h"

namespace mailtls::dns {

// The parts of ub_resolve's return value and `struct ub_result` that classification reads.
struct UbResultFields {
  int err = 0;               // ub_resolve*'s error code (callback `err`); 0 = a result exists
  std::string err_text;      // ub_strerror(err) when err != 0
  bool have_result = true;   // false when the result pointer was NULL
  int rcode = 0;
  bool havedata = false;
  bool nxdomain = false;
  bool secure = false;
  bool bogus = false;
  std::string why_bogus;
  bool was_ratelimited = false;
  int ttl = 0;
  std::string canonname;            // may be empty (NULL)
  std::vector<std::string> data;    // RDATA of each record
  std::string answer_packet;        // the reply in wire format
};

// `qname` as asked; `now` places the RRSIG expiry. Order (D3): local error, bogus, rcode other
// than NOERROR/NXDOMAIN, rate-limited, then secure/insecure data, NODATA or NXDOMAIN.
Answer classify_ub_result(std::string_view qname, RrType type, const UbResultFields& r,
                          SystemTime now);

// "example.test" from "Example.TEST.": the form Answer keeps names in.
std::string normalize_name(std::string_view name);

}  // namespace mailtls::dns
