#include "probes/smtp/starttls_probe.h"

#include <openssl/err.h>
#include <poll.h>
#include <sys/socket.h>

#include <cerrno>
#include <csignal>
#include <cstring>
#include <mutex>
#include <stdexcept>

#include "probes/base/printable_text.h"
#include "probes/tls/openssl_errors.h"

namespace mailtls::smtp {

namespace {

using SteadyClock = std::chrono::steady_clock;

// OpenSSL writes to the socket with write(2), which raises SIGPIPE when the peer has gone; a
// hostile server that drops mid-handshake must not kill the exporter. Ignored once, process-wide,
// unless the program already installed a handler of its own.
void ignore_sigpipe_once() {
  static std::once_flag once;
  std::call_once(once, [] {
    struct sigaction current {};
    if (sigaction(SIGPIPE, nullptr, &current) == 0 && current.sa_handler == SIG_DFL) {
      std::signal(SIGPIPE, SIG_IGN);
    }
  });
}

enum class Io { kOk, kTimeout, kClosed, kProtocol, kError };

struct IoOutcome {
  Io status = Io::kOk;
  std::string message;
};

IoOutcome io(Io s, std::string m) { return IoOutcome{s, std::move(m)}; }

// Waits until fd is ready for `events` or the deadline passes.
IoOutcome wait_for(int fd, short events, Deadline deadline) {
  for (;;) {
    if (deadline.expired()) return io(Io::kTimeout, "timed out");
    pollfd p{fd, events, 0};
    const int n = ::poll(&p, 1, deadline.poll_timeout_ms());
    if (n < 0) {
      if (errno == EINTR) continue;
      return io(Io::kError, std::string("poll: ") + std::strerror(errno));
    }
    if (n == 0) return io(Io::kTimeout, "timed out");
    return {};  // readable, writable, or an error/hangup the next read or write will report
  }
}

// One SMTP conversation on a connected non-blocking socket, plain text first and TLS after
// STARTTLS. Bytes read beyond the end of a reply stay in pending_ for the next reply.
class SmtpConversation {
 public:
  SmtpConversation(int fd, ReplyLimits limits) : fd_(fd), parser_(limits) {}

  void use_tls(SSL* ssl) {
    ssl_ = ssl;
    // RFC 3207 §4.2: nothing received before TLS may carry over into the TLS session.
    pending_.clear();
  }

  IoOutcome send(std::string_view data, Deadline deadline) {
    while (!data.empty()) {
      if (ssl_) {
        ERR_clear_error();
        std::size_t written = 0;
        if (SSL_write_ex(ssl_, data.data(), data.size(), &written) == 1) {
          data.remove_prefix(written);
          continue;
        }
        if (auto w = tls_wait(SSL_get_error(ssl_, 0), deadline); w.status != Io::kOk) return w;
        continue;
      }
      const ssize_t n = ::send(fd_, data.data(), data.size(), MSG_NOSIGNAL);
      if (n > 0) {
        data.remove_prefix(static_cast<std::size_t>(n));
        continue;
      }
      if (n < 0 && errno == EINTR) continue;
      if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
        if (auto w = wait_for(fd_, POLLOUT, deadline); w.status != Io::kOk) return w;
        continue;
      }
      if (n < 0 && (errno == EPIPE || errno == ECONNRESET)) {
        return io(Io::kClosed, "connection closed by peer while sending");
      }
      return io(Io::kError, std::string("send: ") + std::strerror(errno));
    }
    return {};
  }

  IoOutcome read_reply(Deadline deadline, SmtpReply* reply) {
    parser_.reset();
    for (;;) {
      if (!pending_.empty()) {
        std::size_t used = 0;
        parser_.feed(pending_, &used);
        pending_.erase(0, used);
      }
      if (parser_.state() == ReplyParser::State::kComplete) {
        *reply = parser_.reply();
        return {};
      }
      if (parser_.state() == ReplyParser::State::kError) {
        return io(Io::kProtocol, parser_.error_message());
      }
      if (auto r = read_some(deadline); r.status != Io::kOk) return r;
    }
  }

 private:
  IoOutcome read_some(Deadline deadline) {
    char buf[4096];
    for (;;) {
      if (ssl_) {
        ERR_clear_error();
        std::size_t got = 0;
        if (SSL_read_ex(ssl_, buf, sizeof(buf), &got) == 1) {
          pending_.append(buf, got);
          return {};
        }
        const int err = SSL_get_error(ssl_, 0);
        if (err == SSL_ERROR_ZERO_RETURN) return io(Io::kClosed, "TLS session closed by peer");
        if (auto w = tls_wait(err, deadline); w.status != Io::kOk) return w;
        continue;
      }
      const ssize_t n = ::recv(fd_, buf, sizeof(buf), 0);
      if (n > 0) {
        pending_.append(buf, static_cast<std::size_t>(n));
        return {};
      }
      if (n == 0) return io(Io::kClosed, "connection closed by peer");
      if (errno == EINTR) continue;
      if (errno == EAGAIN || errno == EWOULDBLOCK) {
        if (auto w = wait_for(fd_, POLLIN, deadline); w.status != Io::kOk) return w;
        continue;
      }
      if (errno == ECONNRESET) return io(Io::kClosed, "connection reset by peer");
      return io(Io::kError, std::string("recv: ") + std::strerror(errno));
    }
  }

  // After a TLS call that did not complete: wait as OpenSSL asks, or report why it failed.
  IoOutcome tls_wait(int ssl_error, Deadline deadline) {
    switch (ssl_error) {
      case SSL_ERROR_WANT_READ: return wait_for(fd_, POLLIN, deadline);
      case SSL_ERROR_WANT_WRITE: return wait_for(fd_, POLLOUT, deadline);
      case SSL_ERROR_SYSCALL: {
        const int e = errno;
        const std::string queued = tls::drain_openssl_errors();
        if (!queued.empty()) return io(Io::kError, queued);
        if (e == 0 || e == EPIPE || e == ECONNRESET) return io(Io::kClosed, "connection closed by peer");
        return io(Io::kError, std::strerror(e));
      }
      default: {
        const std::string queued = tls::drain_openssl_errors();
        return io(Io::kError, queued.empty() ? "TLS error " + std::to_string(ssl_error) : queued);
      }
    }
  }

  int fd_;
  SSL* ssl_ = nullptr;
  ReplyParser parser_;
  std::string pending_;
};

bool is_ip_literal(const std::string& name) { return !address_family(name).empty(); }

StarttlsFailure connect_failure(ConnectError e) {
  switch (e) {
    case ConnectError::kRefused: return StarttlsFailure::kConnectRefused;
    case ConnectError::kTimeout: return StarttlsFailure::kConnectTimeout;
    default: return StarttlsFailure::kUnreachable;
  }
}

// Failure kind for an I/O problem in a plain-text phase; `timeout_kind` differs for the banner.
StarttlsFailure io_failure(Io s, StarttlsFailure timeout_kind) {
  switch (s) {
    case Io::kTimeout: return timeout_kind;
    case Io::kProtocol: return StarttlsFailure::kProtocolError;
    case Io::kClosed:
    case Io::kError: return StarttlsFailure::kConnectionClosed;
    case Io::kOk: break;
  }
  return StarttlsFailure::kNone;
}

// The first 200 bytes of a reply, cut at a character boundary and printable: the server's
// bytes go into labels, JSON and terminals (probes/base/printable_text.h).
std::string reply_excerpt(const SmtpReply& r) {
  const std::string text = std::to_string(r.code) + " " + (r.lines.empty() ? "" : r.lines.front());
  return printable_text(utf8_prefix(text, 200));
}

// The alerts and local errors with which a handshake limited to one key type ends when the
// server has no certificate of that type: a handshake_failure alert (OpenSSL servers), an
// insufficient_security alert, or no cipher suite or signature algorithm left in common.
bool refused_for_key_type(unsigned long err) {
  if (err == 0) return false;
  switch (ERR_GET_REASON(err)) {
    case SSL_R_SSLV3_ALERT_HANDSHAKE_FAILURE:
    case SSL_R_TLSV1_ALERT_INSUFFICIENT_SECURITY:
    case SSL_R_NO_SHARED_CIPHER:
    case SSL_R_NO_SHARED_SIGNATURE_ALGORITHMS:
    case SSL_R_NO_CIPHERS_AVAILABLE:
    case SSL_R_WRONG_SIGNATURE_TYPE:
    case SSL_R_WRONG_CERTIFICATE_TYPE: return true;
    default: return false;
  }
}

// At most this many certificates are kept from one handshake; real chains have 2 to 4.
constexpr std::size_t kMaxPeerCertificates = 32;

// Steps through one probe; each step returns false when the probe ends there.
class ProbeRun {
 public:
  ProbeRun(const StarttlsSettings& s, Connector& connector, SSL_CTX* ctx, Deadline deadline,
           StarttlsResult& r)
      : s_(s), connector_(connector), ctx_(ctx), deadline_(deadline), r_(r) {}

  void run() {
    if (!connect()) return;
    SmtpConversation conv(fd_.get(), s_.reply_limits);
    conv_ = &conv;
    const bool reached_tls = banner() && ehlo() && starttls() && handshake();
    if (reached_tls && s_.ehlo_after_tls) ehlo_tls();
    if (r_.failure == StarttlsFailure::kNone) r_.phase = StarttlsPhase::kDone;
    quit();
    conv_ = nullptr;
  }

 private:
  bool fail(StarttlsFailure f, std::string message) {
    r_.failure = f;
    r_.message = to_string(r_.phase);
    r_.message += ": " + message;
    return false;
  }

  std::optional<Seconds>* duration_slot(StarttlsPhase p) {
    switch (p) {
      case StarttlsPhase::kConnect: return &r_.durations.connect;
      case StarttlsPhase::kBanner: return &r_.durations.banner;
      case StarttlsPhase::kEhlo: return &r_.durations.ehlo;
      case StarttlsPhase::kStarttls: return &r_.durations.starttls;
      case StarttlsPhase::kTlsHandshake: return &r_.durations.tls_handshake;
      default: return nullptr;
    }
  }

  // Enters a phase, returning its deadline; stop() records how long it took.
  Deadline enter(StarttlsPhase p, std::chrono::milliseconds cap) {
    r_.phase = p;
    started_ = SteadyClock::now();
    return deadline_.capped(cap);
  }
  void stop() {
    if (auto* slot = duration_slot(r_.phase)) *slot = Seconds(SteadyClock::now() - started_);
  }

  bool connect() {
    const Deadline d = enter(StarttlsPhase::kConnect, s_.connect_timeout);
    ConnectResult c = connector_.connect(r_.address, r_.port, d);
    stop();
    if (!c.ok()) {
      return fail(c.error == ConnectError::kNone ? StarttlsFailure::kUnreachable
                                                 : connect_failure(c.error),
                  c.message.empty() ? std::string(to_string(c.error)) : c.message);
    }
    r_.connect_ok = true;
    fd_ = std::move(c.fd);
    return true;
  }

  bool banner() {
    const Deadline d = enter(StarttlsPhase::kBanner, s_.banner_timeout);
    const IoOutcome o = conv_->read_reply(d, &r_.banner);
    stop();
    if (o.status != Io::kOk) {
      return fail(io_failure(o.status, StarttlsFailure::kBannerTimeout), o.message);
    }
    if (r_.banner.code != 220) {
      return fail(StarttlsFailure::kBannerRejected, "greeting " + reply_excerpt(r_.banner));
    }
    return true;
  }

  // Sends a command and reads its reply within the phase deadline `d`.
  IoOutcome command(std::string_view line, Deadline d, SmtpReply* reply) {
    if (auto o = conv_->send(line, d); o.status != Io::kOk) return o;
    return conv_->read_reply(d, reply);
  }

  bool ehlo() {
    const Deadline d = enter(StarttlsPhase::kEhlo, s_.ehlo_timeout);
    SmtpReply reply;
    const IoOutcome o = command("EHLO " + s_.ehlo_name + "\r\n", d, &reply);
    stop();
    if (o.status != Io::kOk) return fail(io_failure(o.status, StarttlsFailure::kTimeout), o.message);
    if (reply.code != 250) return fail(StarttlsFailure::kEhloRejected, reply_excerpt(reply));
    const EhloCapabilities caps = parse_ehlo_capabilities(reply);
    r_.ehlo_keywords = caps.keywords;
    r_.starttls_offered = caps.has("STARTTLS");
    if (!r_.starttls_offered) {
      return fail(StarttlsFailure::kStarttlsNotOffered, "STARTTLS not in the EHLO reply");
    }
    return true;
  }

  bool starttls() {
    const Deadline d = enter(StarttlsPhase::kStarttls, s_.starttls_timeout);
    SmtpReply reply;
    const IoOutcome o = command("STARTTLS\r\n", d, &reply);
    stop();
    if (o.status != Io::kOk) return fail(io_failure(o.status, StarttlsFailure::kTimeout), o.message);
    if (reply.code != 220) return fail(StarttlsFailure::kStarttlsRejected, reply_excerpt(reply));
    return true;
  }

  bool handshake() {
    const Deadline d = enter(StarttlsPhase::kTlsHandshake, s_.tls_handshake_timeout);
    const bool ok = do_handshake(d);
    stop();
    return ok;
  }

  bool do_handshake(Deadline d) {
    ERR_clear_error();
    ssl_.reset(SSL_new(ctx_));
    if (!ssl_ || SSL_set_fd(ssl_.get(), fd_.get()) != 1) {
      return fail(StarttlsFailure::kTlsHandshakeFailed, "SSL setup: " + tls::drain_openssl_errors());
    }
    // SNI carries host names only (RFC 6066 §3).
    if (!r_.sni_name.empty() && !is_ip_literal(r_.sni_name) &&
        // SSL_set_tlsext_host_name() is a macro with an old-style cast; this is what it expands to.
        SSL_ctrl(ssl_.get(), SSL_CTRL_SET_TLSEXT_HOSTNAME, TLSEXT_NAMETYPE_host_name,
                 const_cast<char*>(r_.sni_name.c_str())) != 1) {
      return fail(StarttlsFailure::kTlsHandshakeFailed,
                  "cannot set SNI \"" + r_.sni_name + "\": " + tls::drain_openssl_errors());
    }
    if (r_.key_type_limit &&
        (SSL_set1_sigalgs_list(ssl_.get(), tls::signature_algorithms_for(*r_.key_type_limit)) != 1 ||
         SSL_set_cipher_list(ssl_.get(), tls::cipher_suites_for(*r_.key_type_limit)) != 1)) {
      return fail(StarttlsFailure::kTlsHandshakeFailed,
                  "cannot limit the handshake to " + std::string(to_string(*r_.key_type_limit)) +
                      ": " + tls::drain_openssl_errors());
    }
    SSL_set_connect_state(ssl_.get());
    conv_->use_tls(ssl_.get());
    for (;;) {
      ERR_clear_error();
      const int rc = SSL_do_handshake(ssl_.get());
      if (rc == 1) break;
      const int err = SSL_get_error(ssl_.get(), rc);
      IoOutcome w;
      if (err == SSL_ERROR_WANT_READ) {
        w = wait_for(fd_.get(), POLLIN, d);
      } else if (err == SSL_ERROR_WANT_WRITE) {
        w = wait_for(fd_.get(), POLLOUT, d);
      } else {
        const int saved_errno = errno;
        const bool refused = refused_for_key_type(ERR_peek_error());
        std::string why = tls::drain_openssl_errors();
        if (why.empty()) {
          why = (err == SSL_ERROR_SYSCALL && (saved_errno == 0 || saved_errno == ECONNRESET ||
                                              saved_errno == EPIPE))
                    ? "connection closed by peer during the handshake"
                    : "SSL error " + std::to_string(err) +
                          (saved_errno ? std::string(" (") + std::strerror(saved_errno) + ")" : "");
        }
        ssl_.reset();  // no TLS to shut down politely
        conv_->use_tls(nullptr);
        tls_dead_ = true;
        if (r_.key_type_limit && refused) {
          return fail(StarttlsFailure::kKeyTypeNotOffered,
                      "no " + std::string(to_string(*r_.key_type_limit)) + " certificate: " + why);
        }
        return fail(StarttlsFailure::kTlsHandshakeFailed, why);
      }
      if (w.status == Io::kTimeout) {
        tls_dead_ = true;
        return fail(StarttlsFailure::kTimeout, "TLS handshake timed out");
      }
      if (w.status != Io::kOk) {
        tls_dead_ = true;
        return fail(StarttlsFailure::kTlsHandshakeFailed, w.message);
      }
    }
    r_.starttls_ok = true;
    r_.tls_version = SSL_get_version(ssl_.get());
    if (const SSL_CIPHER* c = SSL_get_current_cipher(ssl_.get())) r_.cipher = SSL_CIPHER_get_name(c);
    // On the client side this stack includes the leaf, in the order the server sent it. The
    // certificates are shared, not copied: the checks after the probe read OpenSSL's parse.
    r_.chain = tls::X509Chain::share(SSL_get_peer_cert_chain(ssl_.get()), kMaxPeerCertificates);
    r_.key_type = tls::handshake_key_type_of(r_.chain.leaf());
    if (r_.key_type_limit && r_.key_type != r_.key_type_limit) {
      // The server ignored the limit and presented what it presents anyway: it has no
      // certificate of the type asked for. Nothing in this session is worth continuing.
      return fail(StarttlsFailure::kKeyTypeNotOffered,
                  "asked for " + std::string(to_string(*r_.key_type_limit)) +
                      ", the server presented another key type");
    }
    return true;
  }

  // Failures here leave starttls_ok and the chain in place: the handshake did complete.
  void ehlo_tls() {
    const Deadline d = enter(StarttlsPhase::kEhloTls, s_.ehlo_timeout);
    SmtpReply reply;
    const IoOutcome o = command("EHLO " + s_.ehlo_name + "\r\n", d, &reply);
    if (o.status != Io::kOk) {
      fail(io_failure(o.status, StarttlsFailure::kTimeout), o.message);
      return;
    }
    if (reply.code != 250) {
      fail(StarttlsFailure::kEhloRejected, reply_excerpt(reply));
      return;
    }
    r_.ehlo_tls_keywords = parse_ehlo_capabilities(reply).keywords;
  }

  // Polite, bounded, and never a failure: the probe's verdict is already decided. Only when
  // the conversation is in step: after a timeout, garbage or a broken handshake the peer is
  // not worth waiting for.
  void quit() {
    if (!fd_.valid() || tls_dead_) return;
    switch (r_.failure) {
      case StarttlsFailure::kNone:
      case StarttlsFailure::kBannerRejected:
      case StarttlsFailure::kEhloRejected:
      case StarttlsFailure::kStarttlsNotOffered:
      case StarttlsFailure::kStarttlsRejected: break;
      default: return;
    }
    const Deadline d = deadline_.capped(s_.quit_timeout);
    SmtpReply ignored;
    if (conv_->send("QUIT\r\n", d).status == Io::kOk) conv_->read_reply(d, &ignored);
    if (ssl_) {
      ERR_clear_error();
      SSL_shutdown(ssl_.get());  // one close_notify, no wait for the peer's
      ERR_clear_error();
    }
  }

  const StarttlsSettings& s_;
  Connector& connector_;
  SSL_CTX* ctx_;
  Deadline deadline_;
  StarttlsResult& r_;
  UniqueFd fd_;
  SslPtr ssl_;
  SmtpConversation* conv_ = nullptr;
  bool tls_dead_ = false;
  SteadyClock::time_point started_{};
};

}  // namespace

std::string_view to_string(StarttlsFailure f) {
  switch (f) {
    case StarttlsFailure::kNone: return "none";
    case StarttlsFailure::kConnectRefused: return "connect_refused";
    case StarttlsFailure::kConnectTimeout: return "connect_timeout";
    case StarttlsFailure::kUnreachable: return "unreachable";
    case StarttlsFailure::kBannerTimeout: return "banner_timeout";
    case StarttlsFailure::kBannerRejected: return "banner_rejected";
    case StarttlsFailure::kEhloRejected: return "ehlo_rejected";
    case StarttlsFailure::kStarttlsNotOffered: return "starttls_not_offered";
    case StarttlsFailure::kStarttlsRejected: return "starttls_rejected";
    case StarttlsFailure::kTlsHandshakeFailed: return "tls_handshake_failed";
    case StarttlsFailure::kTimeout: return "timeout";
    case StarttlsFailure::kProtocolError: return "protocol_error";
    case StarttlsFailure::kConnectionClosed: return "connection_closed";
    case StarttlsFailure::kKeyTypeNotOffered: return "key_type_not_offered";
  }
  return "unknown";
}

std::string_view to_string(StarttlsPhase p) {
  switch (p) {
    case StarttlsPhase::kConnect: return "connect";
    case StarttlsPhase::kBanner: return "banner";
    case StarttlsPhase::kEhlo: return "ehlo";
    case StarttlsPhase::kStarttls: return "starttls";
    case StarttlsPhase::kTlsHandshake: return "tls_handshake";
    case StarttlsPhase::kEhloTls: return "ehlo_tls";
    case StarttlsPhase::kDone: return "done";
  }
  return "unknown";
}

StarttlsProber::StarttlsProber(StarttlsSettings settings, Connector& connector)
    : settings_(std::move(settings)), connector_(connector) {
  ignore_sigpipe_once();
  ssl_ctx_.reset(SSL_CTX_new(TLS_client_method()));
  if (!ssl_ctx_) {
    // Only fails when OpenSSL cannot allocate or initialise: a start-up failure.
    throw std::runtime_error("SSL_CTX_new failed: " + tls::drain_openssl_errors());
  }
  SSL_CTX* ctx = ssl_ctx_.get();
  SSL_CTX_set_verify(ctx, SSL_VERIFY_NONE, nullptr);
  // Observe what the server offers, weak or not: the verdicts judge it later (docs/verdicts.md S2).
  SSL_CTX_set_security_level(ctx, 0);
  SSL_CTX_set_min_proto_version(ctx, TLS1_VERSION);
  SSL_CTX_set_cipher_list(ctx, "ALL:@SECLEVEL=0");
  SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_OFF);
  SSL_CTX_set_options(ctx, SSL_OP_NO_TICKET | SSL_OP_LEGACY_SERVER_CONNECT);
  tls::drain_openssl_errors();
}

StarttlsResult StarttlsProber::probe(const std::string& ip_literal, const std::string& sni_name,
                                     Deadline deadline,
                                     std::optional<tls::HandshakeKeyType> only) const {
  StarttlsResult r;
  r.key_type_limit = only;
  r.address = ip_literal;
  r.port = settings_.port;
  r.family = address_family(ip_literal);
  r.sni_name = sni_name;
  ProbeRun(settings_, connector_, ssl_ctx_.get(), deadline, r).run();
  return r;
}

}  // namespace mailtls::smtp
