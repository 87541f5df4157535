#pragma once
// One SMTP address, probed the way a sending MTA starts a session (RFC 5321, RFC 3207):
// connect, banner, EHLO, STARTTLS, TLS handshake (SNI = the MX host / TLSA base domain), keep
// the presented chain, EHLO again over TLS, QUIT. Never sends mail. Every phase is timed.
//
// The handshake does not verify the peer (SSL_VERIFY_NONE): it must complete whatever the
// certificate, so the chain can be judged offline by DANE and WebPKI checks and shown even when
// it is expired or mismatched. Old protocol versions and weak ciphers are allowed for the same
// reason: a monitor reports "TLS 1.0 negotiated" rather than "handshake failed".
//
// A probe may be limited to one certificate key type (ECDSA or RSA signature algorithms and
// cipher suites): a server that has no certificate of that type refuses the handshake, which is
// reported as kKeyTypeNotOffered rather than as a failure of the server (docs/verdicts.md T14).
//
// All I/O is non-blocking and poll(2)-based, bounded by the probe Deadline and a per-phase cap,
// and every read is bounded in bytes (ReplyLimits).

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "probes/base/deadline.h"
#include "probes/smtp/connector.h"
#include "probes/smtp/reply_parser.h"
#include "probes/tls/handshake_key_type.h"
#include "probes/tls/openssl_ptr.h"
#include "probes/tls/x509_chain.h"

namespace mailtls::smtp {

using Seconds = std::chrono::duration<double>;

struct StarttlsSettings {
  std::string ehlo_name = "mailtls-exporter.invalid";
  std::uint16_t port = 25;
  // Caps per phase; each is further bounded by the probe Deadline. RFC 5321 §4.5.3.2 allows a
  // server 5 minutes for the banner; a monitor uses less and reports its own timeout as an error.
  std::chrono::milliseconds connect_timeout{10'000};
  std::chrono::milliseconds banner_timeout{30'000};
  std::chrono::milliseconds ehlo_timeout{30'000};
  std::chrono::milliseconds starttls_timeout{30'000};
  std::chrono::milliseconds tls_handshake_timeout{30'000};
  std::chrono::milliseconds quit_timeout{2'000};  // politeness only, never a failure
  bool ehlo_after_tls = true;                     // RFC 3207 §4.2: EHLO again inside TLS
  ReplyLimits reply_limits{};
};

enum class StarttlsFailure {
  kNone,
  kConnectRefused,
  kConnectTimeout,
  kUnreachable,  // also: address not usable (bad literal, no route, no IPv6)
  kBannerTimeout,
  kBannerRejected,      // 554 or any non-220 greeting
  kEhloRejected,        // EHLO answered with something other than 250
  kStarttlsNotOffered,  // no STARTTLS keyword in the EHLO reply
  kStarttlsRejected,    // STARTTLS answered with 454, 501, ... instead of 220
  kTlsHandshakeFailed,
  kTimeout,          // a later phase (EHLO, STARTTLS, handshake) ran out of time
  kProtocolError,    // garbage, an overlong line or reply, too many lines
  kConnectionClosed,  // the peer closed the connection in the middle of a reply
  // Limited to one key type, the handshake was refused for want of a shared signature
  // algorithm or cipher suite, or the server presented a certificate of another type anyway:
  // the server has no certificate of that type. Not a fault of the server.
  kKeyTypeNotOffered
};

// Snake-case names for the bounded `reason` label: "none", "connect_refused", ...
std::string_view to_string(StarttlsFailure f);

enum class StarttlsPhase { kConnect, kBanner, kEhlo, kStarttls, kTlsHandshake, kEhloTls, kDone };

// "connect", "banner", "ehlo", "starttls", "tls_handshake", "ehlo_tls", "done".
std::string_view to_string(StarttlsPhase p);

struct PhaseDurations {
  std::optional<Seconds> connect;
  std::optional<Seconds> banner;
  std::optional<Seconds> ehlo;
  std::optional<Seconds> starttls;
  std::optional<Seconds> tls_handshake;
};

struct StarttlsResult {
  std::string address;  // IP literal
  std::uint16_t port = 0;
  std::string family;    // "ipv4" | "ipv6" | "" (not an IP literal)
  std::string sni_name;  // the name sent as SNI
  PhaseDurations durations;  // a phase has a value once it finished, successfully or not
  bool connect_ok = false;
  SmtpReply banner;  // the greeting, as received
  std::vector<std::string> ehlo_keywords;      // before TLS, upper case
  bool starttls_offered = false;
  bool starttls_ok = false;  // the TLS handshake completed
  std::string tls_version;   // "TLSv1.3"
  std::string cipher;        // "TLS_AES_256_GCM_SHA384"
  tls::X509Chain chain;      // as presented, leaf first, as OpenSSL parsed it in the handshake
  std::optional<tls::HandshakeKeyType> key_type_limit;  // what the handshake was limited to
  std::optional<tls::HandshakeKeyType> key_type;        // the presented leaf's, when ECDSA or RSA
  std::vector<std::string> ehlo_tls_keywords;  // after TLS, when ehlo_after_tls
  StarttlsFailure failure = StarttlsFailure::kNone;
  std::string message;  // why, for logs; "" when failure == kNone
  StarttlsPhase phase = StarttlsPhase::kConnect;  // the last phase entered
  bool ok() const { return failure == StarttlsFailure::kNone; }
};

// Probes addresses with shared settings and one shared TLS client context.
// Thread-safe: probe() may run concurrently (the SSL_CTX is read-only after construction; the
// Connector must be thread-safe).
class StarttlsProber {
 public:
  StarttlsProber(StarttlsSettings settings, Connector& connector);

  // `sni_name` is the MX host (TLSA base domain); an empty name sends no SNI. With `only`,
  // the handshake offers only that key type's signature algorithms and cipher suites.
  StarttlsResult probe(const std::string& ip_literal, const std::string& sni_name,
                       Deadline deadline,
                       std::optional<tls::HandshakeKeyType> only = std::nullopt) const;

  const StarttlsSettings& settings() const { return settings_; }

 private:
  StarttlsSettings settings_;
  Connector& connector_;
  SslCtxPtr ssl_ctx_;
};

}  // namespace mailtls::smtp
