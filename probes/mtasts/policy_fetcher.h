#pragma once
// Fetching https://mta-sts.<domain>/.well-known/mta-sts.txt (RFC 8461 §3.3, docs/verdicts.md P4):
// HTTPS only, TLS >= 1.2, WebPKI verification of mta-sts.<domain> (SNI and name), no redirects
// (a 3xx is a failure naming the Location), only status 200, media type text/plain (charset
// utf-8, us-ascii or none), body at most 64 KiB, no HTTP caching. Every step is bounded by the
// Deadline; a low-speed limit ends drip-feeding servers early.
//
// PolicyFetcher is the seam; CurlPolicyFetcher is the real one (libcurl): it resolves
// mta-sts.<domain> A and AAAA through our validating Resolver (bogus answers are not used) and
// pins those addresses with CURLOPT_RESOLVE, so libcurl never asks the system resolver.
// Special-purpose addresses among them are dropped unless the settings allow them.

#include <chrono>
#include <cstddef>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "probes/base/clock.h"
#include "probes/base/deadline.h"
#include "probes/dns/resolver.h"

namespace mailtls::mtasts {

// Why a fetch failed. A closed set, usable as a metric label.
enum class PolicyFetchFailure {
  kNone,
  kDns,          // mta-sts.<domain> has no usable A/AAAA, or the lookup failed
  kConnect,      // TCP connection refused or unreachable
  kTls,          // TLS handshake failed (protocol, version, alert) before any certificate verdict
  kTlsWebPki,    // the certificate chain or name did not verify (sts-webpki-invalid)
  kHttpStatus,   // a status other than 200 (and not a redirect)
  kRedirect,     // a 3xx: redirects must not be followed
  kContentType,  // not text/plain, or a charset other than utf-8 / us-ascii
  kTooLarge,     // the body is larger than the limit
  kTimeout,      // the deadline or the low-speed limit ended the transfer
  kInvalid,      // the request could not be made or the response was not HTTP
};
// "none", "dns", "connect", "tls", "tls_webpki", "http_status", "redirect", "content_type",
// "too_large", "timeout", "invalid".
std::string_view to_string(PolicyFetchFailure f);

// RFC 8460 §4.3.2 result type of a fetch failure: "sts-webpki-invalid" for kTls and kTlsWebPki,
// "sts-policy-invalid" for kContentType, "sts-policy-fetch-error" for the rest, "" for kNone.
std::string_view rfc8460_result_type(PolicyFetchFailure f);

struct PolicyFetchResult {
  bool ok = false;
  PolicyFetchFailure failure = PolicyFetchFailure::kNone;
  std::string message;      // why, for logs and `check`
  std::string result_type;  // rfc8460_result_type(failure)
  std::string url;          // the URL asked for
  std::vector<std::string> addresses;  // the pinned addresses (IP literals)
  std::string connected_address;       // the address that answered, when one did
  long http_status = 0;                // 0 when no response came
  std::string content_type;            // as sent
  std::string location;                // the Location of a 3xx
  std::string body;                    // up to the limit; also kept on status/type failures
  std::string body_sha256;             // lower-case hex of body when ok
  std::optional<SystemTime> cert_not_after;  // leaf of mta-sts.<domain>, also when verification failed
  std::vector<std::string> warnings;
};

class PolicyFetcher {
 public:
  virtual ~PolicyFetcher() = default;
  // `policy_domain` is the mail domain (example.com), not mta-sts.example.com. Thread-safe.
  virtual PolicyFetchResult fetch(std::string_view policy_domain, Deadline deadline) = 0;
};

struct PolicyFetcherSettings {
  int port = 443;  // other than 443 only for tests: the URL then carries the port
  std::vector<std::string> extra_ca_files;  // PEM files trusted besides the system roots
  std::chrono::milliseconds connect_timeout{10000};  // capped by the deadline
  std::size_t max_body_bytes = 64 * 1024;
  long low_speed_bytes_per_second = 50;  // slower than this for low_speed_time: timeout
  std::chrono::seconds low_speed_time{10};
  std::string user_agent = "mailtls_exporter";
  // Connect to special-purpose addresses (loopback, private, link-local, ...; see
  // probes/base/special_address.h) that mta-sts.<domain> resolves to. Off by default: a hostile
  // record would otherwise point the fetch, and /probe?debug=true's view of it, at internal
  // hosts. The exporter sets it from smtp.probe_special_addresses, like the SMTP probes.
  bool connect_special_addresses = false;
};

class CurlPolicyFetcher final : public PolicyFetcher {
 public:
  struct Creation {
    std::unique_ptr<CurlPolicyFetcher> fetcher;  // empty on error
    std::string error;                           // e.g. an unreadable CA file
  };
  // `resolver` must outlive the fetcher.
  static Creation create(dns::Resolver& resolver, PolicyFetcherSettings settings);
  ~CurlPolicyFetcher() override;

  PolicyFetchResult fetch(std::string_view policy_domain, Deadline deadline) override;

 private:
  struct ExtraRoots;
  CurlPolicyFetcher(dns::Resolver& resolver, PolicyFetcherSettings settings,
                    std::shared_ptr<const ExtraRoots> roots);
  dns::Resolver& resolver_;
  PolicyFetcherSettings settings_;
  std::shared_ptr<const ExtraRoots> extra_roots_;
};

// Whether a Content-Type value is acceptable for a policy: text/plain with no charset or
// charset utf-8 / us-ascii (case-insensitive, quotes allowed). Exposed for tests.
bool acceptable_policy_content_type(std::string_view content_type);

}  // namespace mailtls::mtasts
