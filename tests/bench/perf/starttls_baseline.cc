// The cost floor of a STARTTLS probe: connect, banner, EHLO, STARTTLS, TLS handshake with
// chain verification against a CA file, QUIT, with plain OpenSSL and nothing else (no DNS, no
// DANE, no metrics). Each address is probed once; `concurrency` threads share the list.
//
//   starttls_baseline --addresses FILE --ca ca.pem [--port 25] [--concurrency 4]
//                     [--servername mx.bench.test]
//
// Prints one line of figures: probes ok wall_s cpu_s (utime+stime of this process, from
// getrusage) maxrss_kb. The benchmark script reads it.

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <string>
#include <thread>
#include <vector>

#include "probes/tls/openssl_ptr.h"
#include "tests/bench/perf/smtp_line_io.h"

namespace {

constexpr int kTimeoutSeconds = 10;

// SSL_set_tlsext_host_name() is a macro with an old-style cast; this is what it expands to.
bool set_sni(SSL* ssl, const std::string& name) {
  return SSL_ctrl(ssl, SSL_CTRL_SET_TLSEXT_HOSTNAME, TLSEXT_NAMETYPE_host_name,
                  const_cast<char*>(name.c_str())) == 1;
}

bool probe_once(const std::string& address, int port, SSL_CTX* ctx, const std::string& servername) {
  sockaddr_in sa{};
  sa.sin_family = AF_INET;
  sa.sin_port = htons(static_cast<uint16_t>(port));
  if (inet_pton(AF_INET, address.c_str(), &sa.sin_addr) != 1) return false;
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return false;
  mailtls::bench::set_socket_timeouts(fd, kTimeoutSeconds);
  // Without it the QUIT written right after the client Finished waits for the server's
  // delayed ACK (Nagle), ~40 ms of idle wall time per probe that is not the floor.
  int one = 1;
  ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  bool ok = false;
  mailtls::SslPtr ssl;
  mailtls::bench::SmtpLineChannel chan(fd);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&sa), sizeof sa) == 0 && chan.read_reply() == 220 &&
      chan.write_all("EHLO baseline.bench.test\r\n") && chan.read_reply() == 250 &&
      chan.write_all("STARTTLS\r\n") && chan.read_reply() == 220) {
    ssl.reset(SSL_new(ctx));
    if (ssl && SSL_set_fd(ssl.get(), fd) == 1 && set_sni(ssl.get(), servername) &&
        SSL_set1_host(ssl.get(), servername.c_str()) == 1 && SSL_connect(ssl.get()) == 1 &&
        SSL_get_verify_result(ssl.get()) == X509_V_OK) {
      chan.set_tls(ssl.get());
      ok = chan.write_all("QUIT\r\n") && chan.read_reply() == 221;
    }
  }
  if (ssl) SSL_shutdown(ssl.get());
  ERR_clear_error();
  ssl.reset();
  ::close(fd);
  return ok;
}

}  // namespace

int main(int argc, char** argv) {
  std::string addresses_file, ca, servername = "mx.bench.test";
  int port = 25, concurrency = 4;
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string flag = argv[i];
    if (flag == "--addresses") addresses_file = argv[i + 1];
    else if (flag == "--ca") ca = argv[i + 1];
    else if (flag == "--port") port = std::atoi(argv[i + 1]);
    else if (flag == "--concurrency") concurrency = std::max(1, std::atoi(argv[i + 1]));
    else if (flag == "--servername") servername = argv[i + 1];
  }
  if (addresses_file.empty() || ca.empty()) {
    std::fprintf(stderr, "usage: starttls_baseline --addresses FILE --ca ca.pem [--port 25] [--concurrency 4]\n");
    return 2;
  }
  std::vector<std::string> addresses;
  {
    std::ifstream in(addresses_file);
    for (std::string line; std::getline(in, line);) {
      if (!line.empty()) addresses.push_back(line);
    }
  }
  const auto start = std::chrono::steady_clock::now();
  mailtls::SslCtxPtr ctx(SSL_CTX_new(TLS_client_method()));
  if (!ctx || SSL_CTX_load_verify_locations(ctx.get(), ca.c_str(), nullptr) != 1) {
    std::fprintf(stderr, "starttls_baseline: cannot load CA %s\n", ca.c_str());
    return 2;
  }
  SSL_CTX_set_verify(ctx.get(), SSL_VERIFY_PEER, nullptr);
  SSL_CTX_set_session_cache_mode(ctx.get(), SSL_SESS_CACHE_OFF);  // every handshake a full one

  std::atomic<std::size_t> next{0};
  std::atomic<std::size_t> ok{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < concurrency; ++t) {
    threads.emplace_back([&] {
      for (std::size_t i = next++; i < addresses.size(); i = next++) {
        if (probe_once(addresses[i], port, ctx.get(), servername)) ++ok;
      }
    });
  }
  for (auto& t : threads) t.join();
  const double wall = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  rusage ru{};
  getrusage(RUSAGE_SELF, &ru);
  const double cpu = static_cast<double>(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) +
                     static_cast<double>(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
  std::printf("probes=%zu ok=%zu wall_s=%.4f cpu_s=%.4f maxrss_kb=%ld\n", addresses.size(), ok.load(), wall,
              cpu, ru.ru_maxrss);
  return ok.load() == addresses.size() ? 0 : 1;
}
