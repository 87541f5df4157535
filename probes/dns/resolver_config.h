#pragma once
// How the validating resolver reaches DNS and which keys it trusts; filled from the YAML
// `resolver:` section. Plain data, validated by the exporter's config loader.

#include <string>
#include <vector>

namespace mailtls::dns {

struct StubZone {
  std::string zone;                    // "example.test"
  std::vector<std::string> addresses;  // "127.0.0.1@5300", "::1", "192.0.2.53@53"
};

struct ResolverConfig {
  // Where questions go. Forwarders win over the system's resolv.conf; stub zones send their zone
  // to the given authoritative servers; with none of these, resolv.conf's servers are used.
  std::vector<std::string> forwarders;
  std::vector<StubZone> stub_zones;
  bool use_resolv_conf = true;  // only consulted when `forwarders` is empty

  // Trust anchors: the root key (Debian dns-root-data) plus any extra ones, as presentation
  // lines ("example.test. DS 12345 13 2 ABCD..." or DNSKEY) or files of such lines.
  std::string root_trust_anchor_file = "/usr/share/dns/root.key";  // "" disables the root anchor
  std::vector<std::string> trust_anchors;
  std::vector<std::string> trust_anchor_files;

  // A name that must validate secure for the resolver to count as validating (self-test), and
  // optionally one that must come back bogus. Empty: "." DNSKEY is used for the secure check.
  std::string self_test_secure_name;
  std::string self_test_bogus_name;

  // Per-lookup limit, on top of the caller's deadline.
  int lookup_timeout_ms = 10000;
};

}  // namespace mailtls::dns
