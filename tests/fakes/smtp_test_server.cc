#include "tests/fakes/smtp_test_server.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <poll.h>
#include <sys/socket.h>

#include <cerrno>
#include <csignal>
#include <cstring>
#include <stdexcept>

namespace mailtls::testing {

namespace {

void fail(const std::string& what) {
  throw std::runtime_error("SmtpTestServer: " + what + ": " + std::strerror(errno));
}

// Adds one certificate (leaf first, then its chain) and its key; OpenSSL keeps one per key type.
void add_key_pair(SSL_CTX* ctx, const std::string& chain_pem, const std::string& key_pem) {
  BioPtr chain_bio(BIO_new_mem_buf(chain_pem.data(), static_cast<int>(chain_pem.size())));
  X509Ptr leaf(PEM_read_bio_X509(chain_bio.get(), nullptr, nullptr, nullptr));
  if (!leaf || SSL_CTX_use_certificate(ctx, leaf.get()) != 1) {
    throw std::runtime_error("SmtpTestServer: bad leaf certificate PEM");
  }
  while (X509* extra = PEM_read_bio_X509(chain_bio.get(), nullptr, nullptr, nullptr)) {
    SSL_CTX_add0_chain_cert(ctx, extra);  // takes ownership
  }
  ERR_clear_error();  // the loop above ends on a "no start line" error
  BioPtr key_bio(BIO_new_mem_buf(key_pem.data(), static_cast<int>(key_pem.size())));
  EvpPkeyPtr key(PEM_read_bio_PrivateKey(key_bio.get(), nullptr, nullptr, nullptr));
  if (!key || SSL_CTX_use_PrivateKey(ctx, key.get()) != 1) {
    throw std::runtime_error("SmtpTestServer: bad private key PEM");
  }
}

SslCtxPtr make_server_ctx(const SmtpServerScript& script) {
  SslCtxPtr ctx(SSL_CTX_new(TLS_server_method()));
  if (!ctx) throw std::runtime_error("SmtpTestServer: SSL_CTX_new");
  add_key_pair(ctx.get(), script.cert_chain_pem, script.key_pem);
  if (!script.second_cert_chain_pem.empty()) {
    add_key_pair(ctx.get(), script.second_cert_chain_pem, script.second_key_pem);
  }
  return ctx;
}

// One connection's line I/O, plain or over TLS; blocking with socket timeouts.
class ServerConnection {
 public:
  explicit ServerConnection(int fd) : fd_(fd) {}

  bool send_text(const std::string& s) {
    std::size_t off = 0;
    while (off < s.size()) {
      if (ssl_) {
        std::size_t n = 0;
        if (SSL_write_ex(ssl_.get(), s.data() + off, s.size() - off, &n) != 1) return false;
        off += n;
        continue;
      }
      const ssize_t n = ::send(fd_, s.data() + off, s.size() - off, MSG_NOSIGNAL);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) return false;
      off += static_cast<std::size_t>(n);
    }
    return true;
  }

  bool read_line(std::string* line) {
    line->clear();
    while (line->size() < 4096) {
      char c = 0;
      if (ssl_) {
        std::size_t n = 0;
        if (SSL_read_ex(ssl_.get(), &c, 1, &n) != 1) return false;
      } else {
        const ssize_t n = ::recv(fd_, &c, 1, 0);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) return false;
      }
      if (c == '\n') {
        if (!line->empty() && line->back() == '\r') line->pop_back();
        return true;
      }
      *line += c;
    }
    return false;
  }

  // Reads and discards until the peer leaves (or the server stops and shuts the socket down).
  void drain() {
    char buf[512];
    for (;;) {
      const ssize_t n = ::recv(fd_, buf, sizeof(buf), 0);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) return;
    }
  }

  bool start_tls(SSL_CTX* ctx, std::string* sni) {
    ssl_.reset(SSL_new(ctx));
    SSL_set_fd(ssl_.get(), fd_);
    if (SSL_accept(ssl_.get()) != 1) {
      ERR_clear_error();
      ssl_.reset();
      return false;
    }
    const char* name = SSL_get_servername(ssl_.get(), TLSEXT_NAMETYPE_host_name);
    *sni = name ? name : "";
    return true;
  }

  bool tls() const { return ssl_ != nullptr; }

  void close_tls() {
    if (ssl_) SSL_shutdown(ssl_.get());
    ERR_clear_error();
  }

 private:
  int fd_;
  SslPtr ssl_;
};

std::string reply(int code, const std::vector<std::string>& lines) {
  std::string out;
  for (std::size_t i = 0; i < lines.size(); ++i) {
    out += std::to_string(code) + (i + 1 < lines.size() ? "-" : " ") + lines[i] + "\r\n";
  }
  return out;
}

std::string upper(std::string s) {
  for (char& c : s) {
    if (c >= 'a' && c <= 'z') c = static_cast<char>(c - 'a' + 'A');
  }
  return s;
}

}  // namespace

bool SmtpTestServer::ipv6_loopback_available() {
  UniqueFd fd(::socket(AF_INET6, SOCK_STREAM | SOCK_CLOEXEC, 0));
  if (!fd.valid()) return false;
  sockaddr_in6 a{};
  a.sin6_family = AF_INET6;
  a.sin6_addr = in6addr_loopback;
  return ::bind(fd.get(), reinterpret_cast<sockaddr*>(&a), sizeof(a)) == 0;
}

SmtpTestServer::SmtpTestServer(SmtpServerScript script, Family family)
    : script_(std::move(script)), family_(family) {
  std::signal(SIGPIPE, SIG_IGN);  // a client leaving mid-write must not kill the test
  if (!script_.cert_chain_pem.empty()) {
    ssl_ctx_ = make_server_ctx(script_);
  }
  const int af = family == Family::kIpv4 ? AF_INET : AF_INET6;
  listen_fd_.reset(::socket(af, SOCK_STREAM | SOCK_CLOEXEC, 0));
  if (!listen_fd_.valid()) fail("socket");
  sockaddr_storage storage{};
  socklen_t len = 0;
  if (family == Family::kIpv4) {
    auto* a = reinterpret_cast<sockaddr_in*>(&storage);
    a->sin_family = AF_INET;
    a->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    len = sizeof(sockaddr_in);
  } else {
    auto* a = reinterpret_cast<sockaddr_in6*>(&storage);
    a->sin6_family = AF_INET6;
    a->sin6_addr = in6addr_loopback;
    len = sizeof(sockaddr_in6);
  }
  if (::bind(listen_fd_.get(), reinterpret_cast<sockaddr*>(&storage), len) != 0) fail("bind");
  if (::listen(listen_fd_.get(), 256) != 0) fail("listen");
  if (::getsockname(listen_fd_.get(), reinterpret_cast<sockaddr*>(&storage), &len) != 0) {
    fail("getsockname");
  }
  port_ = ntohs(family == Family::kIpv4 ? reinterpret_cast<sockaddr_in*>(&storage)->sin_port
                                        : reinterpret_cast<sockaddr_in6*>(&storage)->sin6_port);
  int pipe_fds[2];
  if (::pipe2(pipe_fds, O_CLOEXEC) != 0) fail("pipe2");
  wake_read_.reset(pipe_fds[0]);
  wake_write_.reset(pipe_fds[1]);
  accept_thread_ = std::thread([this] { accept_loop(); });
}

SmtpTestServer::~SmtpTestServer() {
  stopping_ = true;
  const char byte = 1;
  [[maybe_unused]] const ssize_t ignored = ::write(wake_write_.get(), &byte, 1);
  accept_thread_.join();
  std::vector<std::thread> threads;
  {
    std::lock_guard lock(mutex_);
    for (int fd : open_fds_) ::shutdown(fd, SHUT_RDWR);  // wakes blocked reads and writes
    threads.swap(connection_threads_);
  }
  for (auto& t : threads) t.join();
}

std::vector<std::string> SmtpTestServer::commands() const {
  std::lock_guard lock(mutex_);
  return commands_;
}

std::string SmtpTestServer::last_sni() const {
  std::lock_guard lock(mutex_);
  return last_sni_;
}

void SmtpTestServer::record_command(const std::string& line) {
  std::lock_guard lock(mutex_);
  commands_.push_back(line);
}

void SmtpTestServer::accept_loop() {
  while (!stopping_) {
    pollfd p[2] = {{listen_fd_.get(), POLLIN, 0}, {wake_read_.get(), POLLIN, 0}};
    if (::poll(p, 2, -1) < 0) {
      if (errno == EINTR) continue;
      return;
    }
    if (p[1].revents) return;
    if (!(p[0].revents & POLLIN)) continue;
    const int fd = ::accept4(listen_fd_.get(), nullptr, nullptr, SOCK_CLOEXEC);
    if (fd < 0) continue;
    timeval tv{20, 0};  // a safety net; tests stop the server long before
    ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
    ::setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
    ++accepted_;
    std::lock_guard lock(mutex_);
    open_fds_.push_back(fd);
    connection_threads_.emplace_back([this, fd] {
      serve(fd);
      std::lock_guard inner(mutex_);
      std::erase(open_fds_, fd);
      ::close(fd);
    });
  }
}

void SmtpTestServer::serve(int fd) {
  ServerConnection c(fd);
  const SmtpServerMode mode = script_.mode;
  switch (mode) {
    case SmtpServerMode::kStallBeforeBanner: c.drain(); return;
    case SmtpServerMode::kGarbageBanner:
      c.send_text("hello, this is not SMTP\r\n");
      c.drain();
      return;
    case SmtpServerMode::kEndlessLine: {
      if (!c.send_text("220 ")) return;
      const std::string chunk(4096, 'x');
      while (!stopping_ && c.send_text(chunk)) {
      }
      return;
    }
    case SmtpServerMode::kBannerRejected:
      if (!c.send_text("554 5.7.1 no service here\r\n")) return;
      break;
    default:
      if (!c.send_text(reply(220, script_.banner_lines))) return;
      break;
  }
  if (mode == SmtpServerMode::kStallAfterBanner) {
    c.drain();
    return;
  }
  std::string line;
  while (c.read_line(&line)) {
    record_command(line);
    const std::string verb = upper(line.substr(0, line.find(' ')));
    if (mode == SmtpServerMode::kBannerRejected && verb != "QUIT") {
      if (!c.send_text("503 5.5.1 no service\r\n")) return;
      continue;
    }
    if (verb == "EHLO") {
      if (mode == SmtpServerMode::kManyContinuations) {
        std::string many;
        for (int i = 0; i < 10'000; ++i) many += "250-X-CAPABILITY-" + std::to_string(i) + "\r\n";
        many += "250 STARTTLS\r\n";
        if (!c.send_text(many)) return;
        continue;
      }
      std::vector<std::string> lines = script_.ehlo_lines;
      if (c.tls()) std::erase_if(lines, [](const std::string& l) { return upper(l) == "STARTTLS"; });
      if (!c.send_text(reply(250, lines))) return;
    } else if (verb == "STARTTLS" && !c.tls()) {
      if (mode == SmtpServerMode::kStarttlsRejected) {
        if (!c.send_text(script_.starttls_reply + "\r\n")) return;
        continue;
      }
      if (!c.send_text("220 2.0.0 Ready to start TLS\r\n")) return;
      if (mode == SmtpServerMode::kDropDuringHandshake) {
        char hello[64];
        [[maybe_unused]] const ssize_t n = ::recv(fd, hello, sizeof(hello), 0);
        return;  // closes mid-handshake
      }
      if (mode == SmtpServerMode::kTlsGarbageAfter220) {
        c.send_text("this is not a TLS ServerHello, just text\r\n");
        c.drain();
        return;
      }
      std::string sni;
      if (!ssl_ctx_ || !c.start_tls(ssl_ctx_.get(), &sni)) return;
      std::lock_guard lock(mutex_);
      last_sni_ = sni;
    } else if (verb == "QUIT") {
      c.send_text("221 2.0.0 Bye\r\n");
      c.close_tls();
      return;
    } else if (verb == "NOOP" || verb == "RSET") {
      if (!c.send_text("250 2.0.0 OK\r\n")) return;
    } else {
      if (!c.send_text("502 5.5.2 not implemented\r\n")) return;
    }
  }
}

}  // namespace mailtls::testing
