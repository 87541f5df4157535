#pragma once
// Addresses a public mail or MTA-STS host should never have: loopback, private, link-local,
// documentation, multicast, reserved (the IANA special-purpose registries), and IPv6 forms that
// carry such an IPv4 address inside (mapped, compatible, NAT64, 6to4, Teredo). A hostile DNS
// record pointing at them would make the exporter connect to internal hosts (SSRF, a port
// scanner through /probe?debug=true); danecheck skips them by default too. Every outbound
// connection of the probes (SMTP, the MTA-STS policy fetch) asks this first.

#include <string>

namespace mailtls {

// True for an IPv4 or IPv6 literal in a special-purpose range, for an IPv6 address outside
// global unicast (2000::/3) unless it embeds an IPv4 address that is itself public, and for
// anything that is not an IP literal at all (zone ids such as "fe80::1%eth0" included).
bool is_special_purpose_address(const std::string& ip_literal);

}  // namespace mailtls
