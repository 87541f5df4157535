#pragma once
// Bounded line I/O over a socket, before and after STARTTLS, shared by the benchmark's SMTP
// server and its OpenSSL baseline client. Benchmark code only: loopback, short timeouts.

#include <openssl/ssl.h>
#include <sys/socket.h>
#include <sys/time.h>

#include <cstddef>
#include <optional>
#include <string>

namespace mailtls::bench {

// Reads and writes through the plain socket until tls is set, then through the SSL object.
class SmtpLineChannel {
 public:
  static constexpr std::size_t kMaxBuffered = 8192;  // a longer line ends the session

  explicit SmtpLineChannel(int fd) : fd_(fd) {}

  void set_tls(SSL* ssl) {
    ssl_ = ssl;
    buffer_.clear();  // bytes sent before the handshake must not be read after it
  }

  bool write_all(const std::string& data) {
    std::size_t done = 0;
    while (done < data.size()) {
      int n;
      if (ssl_ != nullptr) {
        n = SSL_write(ssl_, data.data() + done, static_cast<int>(data.size() - done));
      } else {
        n = static_cast<int>(::send(fd_, data.data() + done, data.size() - done, MSG_NOSIGNAL));
      }
      if (n <= 0) return false;
      done += static_cast<std::size_t>(n);
    }
    return true;
  }

  // One line without its CRLF; nullopt on EOF, error, timeout (socket options) or overlong line.
  std::optional<std::string> read_line() {
    for (;;) {
      if (auto pos = buffer_.find("\r\n"); pos != std::string::npos) {
        std::string line = buffer_.substr(0, pos);
        buffer_.erase(0, pos + 2);
        return line;
      }
      if (buffer_.size() > kMaxBuffered) return std::nullopt;
      char chunk[2048];
      int n;
      if (ssl_ != nullptr) {
        n = SSL_read(ssl_, chunk, sizeof chunk);
      } else {
        n = static_cast<int>(::recv(fd_, chunk, sizeof chunk, 0));
      }
      if (n <= 0) return std::nullopt;
      buffer_.append(chunk, static_cast<std::size_t>(n));
    }
  }

  // A whole (possibly multi-line) reply; returns its code, or 0 on failure.
  int read_reply() {
    for (int lines = 0; lines < 100; ++lines) {
      auto line = read_line();
      if (!line || line->size() < 3) return 0;
      const std::string& l = *line;
      for (int i = 0; i < 3; ++i) {
        if (l[i] < '0' || l[i] > '9') return 0;
      }
      if (l.size() == 3 || l[3] == ' ') return (l[0] - '0') * 100 + (l[1] - '0') * 10 + (l[2] - '0');
    }
    return 0;
  }

 private:
  int fd_;
  SSL* ssl_ = nullptr;
  std::string buffer_;
};

inline void set_socket_timeouts(int fd, int seconds) {
  timeval tv{};
  tv.tv_sec = seconds;
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  ::setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
}

}  // namespace mailtls::bench
