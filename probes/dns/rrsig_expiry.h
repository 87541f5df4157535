#pragma once
// What the RRSIGs in a DNS reply's answer section say: the earliest expiration, the Original TTL. libunbound asks with DO=1, so
// its answer_packet carries the signatures; it exposes no expiry of its own.

#include <cstdint>
#include <optional>
#include <string_view>

#include "probes/base/clock.h"

namespace mailtls::dns {

// Walks the answer section of the wire-format `packet` (name compression allowed, every read
// bounded) and returns the earliest expiration among RRSIGs whose type-covered is `qtype`, or
// CNAME/DNAME (the steps of an alias chain). The 32-bit expiration is placed relative to `now`
// with serial-number arithmetic (RFC 4034 §3.1.5). Empty when no such RRSIG is present or the
// packet is malformed before one is found.
std::optional<SystemTime> earliest_rrsig_expiry(std::string_view packet, std::uint16_t qtype,
                                                SystemTime now);

// The Original TTL (RFC 4034 §3.1.4) of the RRSIGs over the `qtype` RRset in the answer section:
// the TTL the zone gives the RRset, which senders cache it for (the TTL of a resolver's answer
// has already been counted down). The largest when several signatures disagree; empty when none
// covers `qtype` (CNAME/DNAME signatures are not the RRset's) or the packet is malformed first.
std::optional<std::uint32_t> rrsig_original_ttl(std::string_view packet, std::uint16_t qtype);

}  // namespace mailtls::dns
