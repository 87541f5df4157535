// A minimal STARTTLS-capable SMTP listener for the benchmark: one process listening on many
// loopback addresses (one per benchmark MX host), so N = 1,000 MX hosts cost 1,000 sockets
// instead of 1,000 Postfix listeners. It speaks just enough SMTP for a prober: banner, EHLO
// (advertising STARTTLS), STARTTLS, EHLO again over TLS, QUIT. Nothing is ever accepted.
//
//   bench_smtp_server --cert chain.pem --key key.pem --addresses FILE [--port 25]
//
// FILE holds one IPv4 address a line. Each connection gets a thread; at most kMaxSessions at once.

#include <arpa/inet.h>
#include <netinet/in.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <poll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <string>
#include <thread>
#include <vector>

#include "probes/tls/openssl_ptr.h"
#include "tests/bench/perf/smtp_line_io.h"

namespace {

constexpr int kMaxSessions = 256;
constexpr int kSessionTimeoutSeconds = 10;
std::atomic<int> sessions{0};
// TLS handshakes completed since start: what the benchmark counts as "handshakes per round" on
// the server's side (--handshake-count FILE), independently of the prober's own counters.
std::atomic<long> handshakes{0};
// Connections accepted since start (--connection-count FILE): every session a prober opened,
// including those whose handshake failed or that never asked for STARTTLS.
std::atomic<long> connections{0};
volatile std::sig_atomic_t stop_requested = 0;

void on_signal(int) { stop_requested = 1; }

bool starts_with_verb(const std::string& line, const char* verb) {
  const std::size_t n = std::strlen(verb);
  if (line.size() < n) return false;
  for (std::size_t i = 0; i < n; ++i) {
    if (std::toupper(static_cast<unsigned char>(line[i])) != verb[i]) return false;
  }
  return line.size() == n || line[n] == ' ';
}

void serve(int fd, SSL_CTX* ctx) {
  mailtls::bench::set_socket_timeouts(fd, kSessionTimeoutSeconds);
  mailtls::bench::SmtpLineChannel chan(fd);
  mailtls::SslPtr ssl;
  if (chan.write_all("220 mx.bench.test ESMTP mailtls bench\r\n")) {
    for (int commands = 0; commands < 50; ++commands) {
      auto line = chan.read_line();
      if (!line) break;
      if (starts_with_verb(*line, "EHLO")) {
        const char* reply = ssl ? "250-mx.bench.test\r\n250-PIPELINING\r\n250 8BITMIME\r\n"
                                : "250-mx.bench.test\r\n250-PIPELINING\r\n250-STARTTLS\r\n250 8BITMIME\r\n";
        if (!chan.write_all(reply)) break;
      } else if (starts_with_verb(*line, "HELO")) {
        if (!chan.write_all("250 mx.bench.test\r\n")) break;
      } else if (!ssl && starts_with_verb(*line, "STARTTLS")) {
        if (!chan.write_all("220 2.0.0 Ready to start TLS\r\n")) break;
        ssl.reset(SSL_new(ctx));
        if (!ssl || SSL_set_fd(ssl.get(), fd) != 1 || SSL_accept(ssl.get()) != 1) {
          ERR_clear_error();
          ssl.reset();
          break;
        }
        ++handshakes;
        chan.set_tls(ssl.get());
      } else if (starts_with_verb(*line, "QUIT")) {
        chan.write_all("221 2.0.0 Bye\r\n");
        break;
      } else if (starts_with_verb(*line, "NOOP") || starts_with_verb(*line, "RSET")) {
        if (!chan.write_all("250 2.0.0 Ok\r\n")) break;
      } else {
        if (!chan.write_all("502 5.5.2 Not implemented in the benchmark\r\n")) break;
      }
    }
  }
  if (ssl) SSL_shutdown(ssl.get());
  ERR_clear_error();
  ssl.reset();
  ::close(fd);
  --sessions;
}

// Replaces `path` with the number (written to a temporary file, then renamed: a reader never
// sees half of it).
void write_count(const std::string& path, long n) {
  const std::string tmp = path + ".tmp";
  if (FILE* f = std::fopen(tmp.c_str(), "w")) {
    std::fprintf(f, "%ld\n", n);
    std::fclose(f);
    std::rename(tmp.c_str(), path.c_str());
  }
}

int listen_on(const std::string& address, int port) {
  sockaddr_in sa{};
  sa.sin_family = AF_INET;
  sa.sin_port = htons(static_cast<uint16_t>(port));
  if (inet_pton(AF_INET, address.c_str(), &sa.sin_addr) != 1) return -1;
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
  if (fd < 0) return -1;
  int one = 1;
  ::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  if (::bind(fd, reinterpret_cast<sockaddr*>(&sa), sizeof sa) != 0 || ::listen(fd, 128) != 0) {
    ::close(fd);
    return -1;
  }
  return fd;
}

}  // namespace

int main(int argc, char** argv) {
  std::string cert, key, addresses_file, count_file, connection_file;
  int port = 25;
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string flag = argv[i];
    if (flag == "--cert") cert = argv[i + 1];
    else if (flag == "--key") key = argv[i + 1];
    else if (flag == "--addresses") addresses_file = argv[i + 1];
    else if (flag == "--port") port = std::atoi(argv[i + 1]);
    else if (flag == "--handshake-count") count_file = argv[i + 1];
    else if (flag == "--connection-count") connection_file = argv[i + 1];
  }
  if (cert.empty() || key.empty() || addresses_file.empty()) {
    std::fprintf(stderr, "usage: bench_smtp_server --cert chain.pem --key key.pem --addresses FILE [--port 25] [--handshake-count FILE] [--connection-count FILE]\n");
    return 2;
  }
  std::vector<std::string> addresses;
  {
    std::ifstream in(addresses_file);
    for (std::string line; std::getline(in, line);) {
      if (!line.empty()) addresses.push_back(line);
    }
  }
  rlimit lim{};
  if (getrlimit(RLIMIT_NOFILE, &lim) == 0 && lim.rlim_cur < lim.rlim_max) {
    lim.rlim_cur = lim.rlim_max;
    setrlimit(RLIMIT_NOFILE, &lim);
  }

  mailtls::SslCtxPtr ctx(SSL_CTX_new(TLS_server_method()));
  if (!ctx || SSL_CTX_use_certificate_chain_file(ctx.get(), cert.c_str()) != 1 ||
      SSL_CTX_use_PrivateKey_file(ctx.get(), key.c_str(), SSL_FILETYPE_PEM) != 1) {
    std::fprintf(stderr, "bench_smtp_server: cannot load %s / %s\n", cert.c_str(), key.c_str());
    return 2;
  }
  // A session cache would let clients resume; every benchmark handshake must be a full one.
  SSL_CTX_set_session_cache_mode(ctx.get(), SSL_SESS_CACHE_OFF);
  SSL_CTX_set_num_tickets(ctx.get(), 0);

  std::vector<pollfd> fds;
  for (const auto& a : addresses) {
    int fd = listen_on(a, port);
    if (fd < 0) {
      std::fprintf(stderr, "bench_smtp_server: cannot listen on %s:%d: %s\n", a.c_str(), port, std::strerror(errno));
      return 1;
    }
    fds.push_back(pollfd{fd, POLLIN, 0});
  }
  std::signal(SIGTERM, on_signal);
  std::signal(SIGINT, on_signal);
  std::signal(SIGPIPE, SIG_IGN);
  std::fprintf(stderr, "bench_smtp_server: listening on %zu addresses, port %d\n", fds.size(), port);

  long written = -1;
  long connections_written = -1;
  while (!stop_requested) {
    if (!count_file.empty() && handshakes.load() != written) {
      written = handshakes.load();
      write_count(count_file, written);
    }
    if (!connection_file.empty() && connections.load() != connections_written) {
      connections_written = connections.load();
      write_count(connection_file, connections_written);
    }
    int n = ::poll(fds.data(), fds.size(), 500);
    if (n <= 0) continue;
    for (auto& p : fds) {
      if ((p.revents & POLLIN) == 0) continue;
      for (;;) {
        int c = ::accept4(p.fd, nullptr, nullptr, SOCK_CLOEXEC);
        if (c < 0) break;
        ++connections;
        if (sessions >= kMaxSessions) {
          ::close(c);
          continue;
        }
        ++sessions;
        std::thread(serve, c, ctx.get()).detach();
      }
    }
  }
  for (auto& p : fds) ::close(p.fd);
  // Detached sessions end by their own timeouts; wait for them so ctx outlives them.
  for (int i = 0; i < 10 * (kSessionTimeoutSeconds + 1) && sessions > 0; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  return 0;
}
