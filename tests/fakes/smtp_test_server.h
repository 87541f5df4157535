#pragma once
// A scripted SMTP server on a loopback ephemeral port, for integration tests of the STARTTLS
// probe: a well-behaved server (banner, EHLO, STARTTLS, a real OpenSSL handshake with the given
// chain, EHLO, QUIT) and hostile ones (stalls, endless lines, 10,000-line replies, a dropped
// handshake, garbage instead of TLS). Each connection is served on its own thread; the
// destructor shuts every connection down and joins.

#include <atomic>
#include <cstdint>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "probes/base/unique_fd.h"
#include "probes/tls/openssl_ptr.h"

namespace mailtls::testing {

enum class SmtpServerMode {
  kNormal,               // banner, EHLO (ehlo_lines), STARTTLS → 220, TLS, EHLO, QUIT → 221
  kStarttlsRejected,     // STARTTLS → starttls_reply (default "454 4.7.0 TLS not available")
  kBannerRejected,       // greeting "554 5.7.1 no service here", then waits for QUIT
  kStallBeforeBanner,    // accepts and never writes
  kStallAfterBanner,     // sends the banner, then never answers
  kEndlessLine,          // "220 " followed by bytes without CRLF, until the client leaves
  kManyContinuations,    // EHLO answered with 10,000 "250-" lines (and a last one)
  kDropDuringHandshake,  // STARTTLS → 220, reads the ClientHello, closes
  kTlsGarbageAfter220,   // STARTTLS → 220, then plain text instead of a ServerHello
  kGarbageBanner,        // "hello, this is not SMTP\r\n"
};

struct SmtpServerScript {
  SmtpServerMode mode = SmtpServerMode::kNormal;
  std::vector<std::string> banner_lines = {"mx.test ESMTP ready"};  // >1 → "220-" lines
  // The EHLO reply lines after the code; the first is the greeting. Put STARTTLS in or leave it
  // out; case and position are up to the test.
  std::vector<std::string> ehlo_lines = {"mx.test", "PIPELINING", "SIZE 10240000", "STARTTLS"};
  std::string starttls_reply = "454 4.7.0 TLS not available";  // kStarttlsRejected only
  std::string cert_chain_pem;  // leaf first, then intermediates
  std::string key_pem;
  // A second certificate with a key of another type (RSA beside ECDSA): the server picks one
  // by the client's signature algorithms, as a dual-certificate Postfix does.
  std::string second_cert_chain_pem;
  std::string second_key_pem;
};

class SmtpTestServer {
 public:
  enum class Family { kIpv4, kIpv6 };

  // Listens on 127.0.0.1 or ::1 at an ephemeral port; throws std::runtime_error if it cannot.
  explicit SmtpTestServer(SmtpServerScript script, Family family = Family::kIpv4);
  ~SmtpTestServer();
  SmtpTestServer(const SmtpTestServer&) = delete;
  SmtpTestServer& operator=(const SmtpTestServer&) = delete;

  std::uint16_t port() const { return port_; }
  std::string address() const { return family_ == Family::kIpv4 ? "127.0.0.1" : "::1"; }
  // Every command line received (without CRLF), over all connections, in arrival order.
  std::vector<std::string> commands() const;
  // The SNI of the most recent TLS handshake ("" if none was sent).
  std::string last_sni() const;
  int connections_accepted() const { return accepted_.load(); }

  // True if a socket can be bound to ::1 here.
  static bool ipv6_loopback_available();

 private:
  void accept_loop();
  void serve(int fd);
  void record_command(const std::string& line);

  SmtpServerScript script_;
  Family family_;
  SslCtxPtr ssl_ctx_;  // server side, when the script has a certificate
  UniqueFd listen_fd_;
  UniqueFd wake_read_;
  UniqueFd wake_write_;
  std::uint16_t port_ = 0;
  std::atomic<int> accepted_{0};
  std::atomic<bool> stopping_{false};
  mutable std::mutex mutex_;
  std::vector<std::string> commands_;
  std::string last_sni_;
  std::vector<int> open_fds_;  // for shutdown() at stop
  std::vector<std::thread> connection_threads_;
  std::thread accept_thread_;
};

}  // namespace mailtls::testing
