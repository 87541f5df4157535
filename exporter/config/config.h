#pragma once
// The YAML configuration as plain structs. Everything is validated at load time: a config that
// loads is one the probes can run with; a bad one yields one error naming file, line and key.

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "exporter/exposition/metrics_profile.h"
#include "probes/base/expected.h"
#include "probes/dns/resolver_config.h"

namespace mailtls::exporter {

using Millis = std::chrono::milliseconds;

struct DomainConfig {
  std::string name;  // lower case A-labels, no trailing dot
  Millis interval{0};
  Millis timeout{0};
  bool check_dane = true;
  bool check_mtasts = true;
  bool check_tlsrpt = true;
  std::string defined_at;  // "file:line", for messages
};

struct SmtpConfig {
  std::string ehlo_name = "mailtls-exporter.invalid";
  std::uint16_t port = 25;
  // Connect to loopback, private and other special-purpose addresses (probes/base/
  // special_address.h): MX hosts and the MTA-STS policy host. Off by default so a hostile record
  // cannot point the exporter at internal hosts; on for test worlds and for operators whose MX
  // hosts are on private networks.
  bool probe_special_addresses = false;
  // Domains that lead to the same endpoint (address, port, SNI name) share one STARTTLS
  // observation per interval instead of each opening a session (probes/smtp/observation_cache.h).
  bool share_observations = true;
  // Politeness towards each MX address (probes/smtp/address_gate.h): sessions open at once, and
  // the least time between the starts of two sessions.
  int max_sessions_per_address = 2;
  Millis min_session_gap{100};
  // How long the answer of the handshake limited to the other key type (T14: does the server
  // also have an RSA or ECDSA certificate, and which chain) is reused at an endpoint while its
  // first handshake presents the same chain (probes/smtp/key_type_answers.h); 0: asked at every
  // probe.
  Millis key_type_recheck_interval{std::chrono::hours(1)};
};

struct TlsConfig {
  std::vector<std::string> ca_files;  // trusted in addition to the system roots (WebPKI checks)
};

struct MtaStsConfig {
  std::uint16_t port = 443;  // for test worlds; RFC 8461 fetches from 443
};

struct TlsRptReceiverConfig {
  bool enabled = false;
  std::uint64_t max_body_bytes = 1 << 20;               // compressed request body
  std::uint64_t max_decompressed_bytes = 20ull << 20;   // gzip bomb guard (mox uses 20 MB)
  std::string maildir;               // mailed reports delivered here are imported (new/ -> cur/)
  Millis maildir_scan_interval = std::chrono::seconds(30);
  // How long a mail whose DKIM key cannot be had stays in new/ to be tried again.
  Millis dkim_retry = std::chrono::hours(48);
  bool accept_unsigned_mail = false; // skips DKIM (RFC 8460 §5.3): only behind an MTA that checks it
  // organization-name values that always get their own label; up to max_organizations others
  // get one first come (from reports about a configured domain), the rest count as "other".
  std::vector<std::string> known_organizations;
  std::uint64_t max_organizations = 50;
};

struct MetricsConfig {
  // Which per-domain series /metrics and /probe carry (docs/metrics.md, "Profiles").
  MetricsProfile profile = MetricsProfile::kFull;
};

struct Config {
  std::string source_file;
  Millis interval = std::chrono::minutes(5);
  Millis timeout = std::chrono::seconds(30);
  int concurrency = 32;
  dns::ResolverConfig resolver;
  SmtpConfig smtp;
  TlsConfig tls;
  MtaStsConfig mtasts;
  TlsRptReceiverConfig tlsrpt_receiver;
  MetricsConfig metrics;
  // Domains /probe may be asked about besides the configured ones ("example.com", "*.example.com").
  std::vector<std::string> probe_allow_list;
  std::vector<DomainConfig> domains;
};

// The configuration, or one line "file:line: key: message" saying what is wrong.
using ConfigResult = Expected<Config, std::string>;

ConfigResult load_config_file(const std::string& path);
// For tests and /probe: parse text as if it were the file `name`.
ConfigResult load_config_text(const std::string& text, const std::string& name);

// "30s", "5m", "1h30m", "500ms", "2d", "1w" (the Prometheus duration syntax).
std::optional<Millis> parse_duration(const std::string& text);
// Lower-cases and drops one trailing dot; returns an error message for invalid names.
Expected<std::string, std::string> normalize_domain_name(const std::string& name);

}  // namespace mailtls::exporter
