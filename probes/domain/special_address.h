#pragma once
// Addresses a public MX should never have: loopback, private, link-local, documentation,
// multicast, reserved (IANA special-purpose registries). A hostile MX record pointing at them
// would make the exporter probe internal hosts (SSRF); danecheck skips them by default too.

#include <string>

namespace mailtls::domain {

// True for an IPv4 or IPv6 literal in a special-purpose range (also IPv4-mapped IPv6), and for
// anything that is not an IP literal at all.
bool is_special_purpose_address(const std::string& ip_literal);

}  // namespace mailtls::domain
