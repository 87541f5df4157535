#pragma once
// The server side of --web.config.file's TLS: one SSL_CTX made from a WebTlsConfig and the PEM
// it names. The one place that turns the web config's TLS keys into OpenSSL settings; the
// loader (web_config.cc) builds one to check a file, the server one per certificate it serves.

#include <optional>
#include <string>

#include "exporter/config/web_config.h"
#include "probes/tls/openssl_ptr.h"

namespace mailtls::exporter {

// A PEM file larger than this is refused: a certificate chain is a few KiB.
constexpr size_t kMaxPemFileBytes = 1 << 20;

// The certificate chain, key and client CAs, as PEM text.
struct TlsPem {
  std::string cert;
  std::string key;
  std::string client_ca;  // empty: none
};

// Reads the PEM files `t` names (each bounded by kMaxPemFileBytes) or takes its inline PEM;
// nullopt with a reason when a file cannot be read.
std::optional<TlsPem> read_tls_pem(const WebTlsConfig& t, std::string* error);

// A TLS server context with `pem` and every setting of `t`: versions, cipher suites and their
// order, curves, client certificate policy and allowed SANs. Null with a reason (OpenSSL's
// own included) when the PEM does not load, the key does not match, or OpenSSL refuses a
// setting.
SslCtxPtr make_server_ssl_ctx(const WebTlsConfig& t, const TlsPem& pem, std::string* error);

}  // namespace mailtls::exporter
