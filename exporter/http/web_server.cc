#include "exporter/http/web_server.h"

#include <openssl/ssl.h>
#include <spdlog/spdlog.h>
#include <strings.h>
#include <sys/resource.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ip/v6_only.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <chrono>
#include <future>
#include <mutex>
#include <optional>
#include <set>
#include <thread>
#include <vector>

#include "exporter/http/basic_auth.h"
#include "exporter/http/http_request_head.h"
#include "exporter/http/response_compression.h"
#include "exporter/http/worker_pool.h"

namespace mailtls::exporter {

std::string HttpRequest::param(const std::string& name) const {
  auto it = params.find(name);
  return it == params.end() ? "" : it->second;
}

std::string HttpRequest::header(const std::string& name) const {
  for (const auto& [k, v] : headers) {
    if (strcasecmp(k.c_str(), name.c_str()) == 0) return v;
  }
  return "";
}

namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;
using Clock = std::chrono::steady_clock;

// Threads that read requests and write answers; handlers never run on them.
constexpr int kIoThreads = 2;
// A response is written in slices of this size, each with its own write deadline, and the
// whole response within kResponseDeadline: a client that reads slowly but steadily gets its
// answer, one that stops reading is cut off, one that dribbles cannot hold on forever.
constexpr size_t kWriteSliceBytes = 256 << 10;
constexpr auto kResponseDeadline = std::chrono::minutes(2);
// A streamed body goes out in chunks of about this size (one chunk per small piece would be
// one write each).
constexpr size_t kChunkBytes = 64 << 10;

// What --web.config.file decides, swapped whole by a reload. TLS applies to connections
// accepted after the swap; basic auth to every request after it.
struct Security {
  std::shared_ptr<asio::ssl::context> tls;  // null: plain HTTP
  std::shared_ptr<const BasicAuth> auth;    // null: no basic auth
};

std::shared_ptr<asio::ssl::context> make_tls_context(const WebTlsConfig& t, std::string* error) {
  auto ctx = std::make_shared<asio::ssl::context>(asio::ssl::context::tls_server);
  SSL_CTX* c = ctx->native_handle();
  SSL_CTX_set_min_proto_version(c, t.min_version ? t.min_version : TLS1_2_VERSION);
  // Client-initiated renegotiation costs the server a handshake each: none.
  SSL_CTX_set_options(c, SSL_OP_NO_RENEGOTIATION);
  if (SSL_CTX_use_certificate_chain_file(c, t.cert_file.c_str()) != 1) {
    *error = "cannot load certificate " + t.cert_file;
    return nullptr;
  }
  if (SSL_CTX_use_PrivateKey_file(c, t.key_file.c_str(), SSL_FILETYPE_PEM) != 1 ||
      SSL_CTX_check_private_key(c) != 1) {
    *error = "cannot load private key " + t.key_file;
    return nullptr;
  }
  if (!t.client_ca_file.empty()) {
    if (SSL_CTX_load_verify_locations(c, t.client_ca_file.c_str(), nullptr) != 1) {
      *error = "cannot load client CA file " + t.client_ca_file;
      return nullptr;
    }
    if (t.require_client_cert) {
      SSL_CTX_set_verify(c, SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT, nullptr);
    }
  }
  return ctx;
}

std::shared_ptr<const Security> make_security(const WebConfig& wc, std::string* error) {
  auto s = std::make_shared<Security>();
  if (wc.tls) {
    s->tls = make_tls_context(*wc.tls, error);
    if (!s->tls) return nullptr;
  }
  if (!wc.basic_auth_users.empty()) s->auth = std::make_shared<BasicAuth>(wc.basic_auth_users);
  return s;
}

std::string reason_phrase(int status) {
  const auto reason = http::obsolete_reason(http::int_to_status(static_cast<unsigned>(status)));
  return reason.empty() ? "Unknown" : std::string(reason);
}

bool safe_header(const std::string& name, const std::string& value) {
  if (name.empty() || name.find_first_of(":\r\n") != std::string::npos) return false;
  if (value.find_first_of("\r\n") != std::string::npos) return false;
  // Framing is the server's.
  for (const char* own : {"Content-Length", "Transfer-Encoding", "Connection"}) {
    if (strcasecmp(name.c_str(), own) == 0) return false;
  }
  return true;
}

// Status line and header fields of an answer; `body_bytes` nullopt means chunked.
std::string response_head(int status, const std::string& content_type,
                          const std::multimap<std::string, std::string>& headers,
                          std::optional<size_t> body_bytes, bool keep_alive) {
  std::string h = "HTTP/1.1 " + std::to_string(status) + " " + reason_phrase(status) + "\r\n";
  h += "Content-Type: " + content_type + "\r\n";
  for (const auto& [k, v] : headers) {
    if (safe_header(k, v) && strcasecmp(k.c_str(), "Content-Type") != 0) h += k + ": " + v + "\r\n";
  }
  h += body_bytes ? "Content-Length: " + std::to_string(*body_bytes) + "\r\n"
                  : std::string("Transfer-Encoding: chunked\r\n");
  if (!keep_alive) h += "Connection: close\r\n";
  h += "\r\n";
  return h;
}

struct Route {
  HttpHandler handler;
  bool reserved = false;  // runs on the reserved workers
};

}  // namespace

struct WebServer::Impl {
  WebServerOptions options;
  size_t max_connections = 0;
  std::function<void(const std::string&, int)> error_observer;
  std::map<std::string, std::map<std::string, Route>> routes;  // path -> method -> route
  std::mutex security_mu;
  std::shared_ptr<const Security> security;  // guarded by security_mu
  std::string security_error;                // why the constructor's web config failed
  std::atomic<int> port{-1};
  std::atomic<bool> stop_requested{false};
  std::atomic<size_t> connections{0};
  // Declared after what sessions touch in their destructors: the io_context destroys the
  // sessions still queued in it.
  asio::io_context ioc{kIoThreads};
  std::optional<tcp::acceptor> acceptor;
  asio::steady_timer accept_retry{ioc};
  // Handlers: /metrics and health checks never queue behind slow /probe calls.
  std::unique_ptr<WorkerPool> workers;
  std::unique_ptr<WorkerPool> reserved_workers;

  std::shared_ptr<const Security> current_security() {
    std::lock_guard lock(security_mu);
    return security;
  }
  void observe_error(const std::string& path, int status) {
    if (error_observer) error_observer(path, status);
  }
  void accept();
  template <class Stream>
  void start_session(tcp::socket socket, std::shared_ptr<const Security> security);
};

namespace {

// One client connection: reads a request (head, then body) against one deadline, hands it to
// a worker, writes the answer with write deadlines, and then reads the next request from
// what is already buffered (pipelining) or the socket (keep-alive). Every step runs on the
// connection's strand; the worker thread only posts to it.
template <class Stream>
class Session : public std::enable_shared_from_this<Session<Stream>> {
 public:
  template <class... Args>
  Session(WebServer::Impl& impl, std::string remote, std::shared_ptr<const Security> security,
          Args&&... stream_args)
      : impl_(impl),
        security_(std::move(security)),
        stream_(std::forward<Args>(stream_args)...),
        remote_(std::move(remote)),
        // A head, and what the body parser has not taken yet (at most one 64 KiB read): a
        // chunk line without an end cannot grow it further.
        buffer_(impl.options.max_header_bytes + (128 << 10)) {}
  ~Session() { --impl_.connections; }

  void start() {
    if constexpr (kTls) {
      lowest().expires_after(read_timeout());
      stream_.async_handshake(asio::ssl::stream_base::server,
                              [self = this->shared_from_this()](beast::error_code ec) {
                                if (!ec) self->read_request();
                              });
    } else {
      read_request();
    }
  }

 private:
  static constexpr bool kTls = !std::is_same_v<Stream, beast::tcp_stream>;

  beast::tcp_stream& lowest() { return beast::get_lowest_layer(stream_); }
  std::chrono::seconds read_timeout() const { return std::chrono::seconds(impl_.options.read_timeout_seconds); }
  std::chrono::seconds write_timeout() const { return std::chrono::seconds(impl_.options.write_timeout_seconds); }

  // One deadline for the whole request, from the moment the server waits for it (which also
  // bounds an idle keep-alive connection).
  void read_request() {
    if (impl_.stop_requested) return close();
    request_deadline_ = Clock::now() + read_timeout();
    parser_.emplace();
    parser_->header_limit(static_cast<std::uint32_t>(impl_.options.max_header_bytes));
    parser_->body_limit(impl_.options.max_body_bytes);
    read_head();
  }

  std::string_view buffered() const {
    return {static_cast<const char*>(buffer_.data().data()), buffer_.size()};
  }

  void read_head() {
    // Empty lines before a request line are ignored (RFC 9112 section 2.2).
    size_t skip = 0;
    for (auto b = buffered(); skip + 1 < b.size() && b[skip] == '\r' && b[skip + 1] == '\n';) skip += 2;
    buffer_.consume(skip);
    if (const size_t end = find_request_head_end(buffered()); end != std::string_view::npos) {
      return on_head(end);
    }
    if (buffer_.size() >= impl_.options.max_header_bytes) return refuse(431, "");
    lowest().expires_at(request_deadline_);
    const size_t room = std::min<size_t>(4096, impl_.options.max_header_bytes + 4 - buffer_.size());
    stream_.async_read_some(buffer_.prepare(room), [self = this->shared_from_this()](
                                                       beast::error_code ec, size_t n) {
      if (ec) return self->close();  // gone, or the deadline passed
      self->buffer_.commit(n);
      self->read_head();
    });
  }

  void on_head(size_t end) {
    const std::string_view head = buffered().substr(0, end);
    if (const std::string why = check_request_head(head); !why.empty()) return refuse(400, "");
    beast::error_code ec;
    parser_->eager(false);
    const size_t used = parser_->put(asio::buffer(head.data(), head.size()), ec);
    const std::string target(parser_->get().target());
    if (ec == http::error::body_limit) return refuse(413, target);  // Content-Length too large
    if (ec == http::error::header_limit) return refuse(431, target);
    if (ec || !parser_->is_header_done() || used != end) return refuse(400, target);
    buffer_.consume(end);
    if (parser_->is_done()) return dispatch();
    auto read_body = [self = this->shared_from_this()] {
      self->lowest().expires_at(self->request_deadline_);
      self->parser_->eager(true);
      http::async_read(self->stream_, self->buffer_, *self->parser_,
                       [self](beast::error_code read_ec, size_t) {
                         if (read_ec == http::error::body_limit) {
                           return self->refuse(413, std::string(self->parser_->get().target()));
                         }
                         if (read_ec) return self->close();
                         self->dispatch();
                       });
    };
    const auto expect = parser_->get()[http::field::expect];
    if (beast::iequals(expect, "100-continue") && parser_->get().version() >= 11) {
      auto interim = std::make_shared<std::string>("HTTP/1.1 100 Continue\r\n\r\n");
      lowest().expires_after(write_timeout());
      asio::async_write(stream_, asio::buffer(*interim),
                        [interim, read_body](beast::error_code write_ec, size_t) {
                          if (!write_ec) read_body();
                        });
      return;
    }
    read_body();
  }

  // The request is whole: route it and hand it to a worker.
  void dispatch() {
    auto msg = parser_->release();
    parser_.reset();
    keep_alive_ = msg.keep_alive() && ++requests_ < impl_.options.keep_alive_max_requests &&
                  !impl_.stop_requested;
    auto req = std::make_shared<HttpRequest>();
    req->method = std::string(msg.method_string());
    const std::string target(msg.target());
    if (!parse_request_target(target, &req->path, &req->params)) return refuse(400, target);
    for (const auto& f : msg) req->headers.emplace(std::string(f.name_string()), std::string(f.value()));
    req->body = std::move(msg.body());
    req->remote_addr = remote_;
    head_only_ = req->method == "HEAD";

    auto by_path = impl_.routes.find(req->path);
    if (by_path == impl_.routes.end()) return refuse(404, req->path, keep_alive_);
    auto route = by_path->second.find(head_only_ ? "GET" : req->method);
    if (route == by_path->second.end()) return refuse(405, req->path, keep_alive_);
    WorkerPool& pool = route->second.reserved ? *impl_.reserved_workers : *impl_.workers;
    const HttpHandler* handler = &route->second.handler;  // routes do not change while serving
    if (!pool.try_submit([self = this->shared_from_this(), req, handler] { self->work(*req, *handler); })) {
      spdlog::warn("HTTP server busy: refused {} {} from {}", req->method, req->path, remote_);
      return refuse(503, req->path);
    }
  }

  // On a worker thread.
  void work(const HttpRequest& req, const HttpHandler& handler) {
    HttpResponse res;
    const auto security = impl_.current_security();
    if (security->auth && !security->auth->allows(req.header("Authorization"))) {
      res = HttpResponse{401, "text/plain; charset=utf-8", "Unauthorized\n",
                         {{"WWW-Authenticate", "Basic realm=\"mailtls_exporter\""}}};
    } else {
      try {
        res = handler(req);
      } catch (const std::exception& e) {
        spdlog::error("handler for {} failed: {}", req.path, e.what());
        res = HttpResponse{500, "text/plain; charset=utf-8", "internal error\n", {}};
      } catch (...) {
        spdlog::error("handler for {} failed", req.path);
        res = HttpResponse{500, "text/plain; charset=utf-8", "internal error\n", {}};
      }
    }
    const bool gzip = accepts_gzip(req.header("Accept-Encoding")) && res.content_type.rfind("text/", 0) == 0;
    res.headers.emplace("Vary", "Accept-Encoding");
    if (res.body_writer) return stream(res, gzip);
    answer(res, gzip);
  }

  // An answer whose body is whole: written from this thread (nothing else uses the connection
  // while its handler runs, and the first send happens at once rather than after an I/O
  // thread wakes up); completions run on the connection's strand.
  void answer(HttpResponse& res, bool gzip) {
    const bool encoded = res.headers.count("Content-Encoding") > 0;  // the handler's own gzip
    if (res.body.size() >= kMinCompressedBodyBytes && gzip && !encoded) {
      if (auto gz = gzip_compress(res.body); !gz.empty()) {
        res.body = std::move(gz);
        res.headers.emplace("Content-Encoding", "gzip");
      }
    }
    auto out = std::make_shared<Outgoing>();
    out->head = response_head(res.status, res.content_type, res.headers, res.body.size(), keep_alive_);
    if (!head_only_) out->body = std::move(res.body);
    write(out);
  }

  // A body_writer answer. What fits in kChunkBytes goes out as an ordinary answer (most
  // /metrics answers: no chunking, no waiting here); a larger one is sent chunked from this
  // thread as it is produced, each piece through the strand with a write deadline.
  void stream(HttpResponse& res, bool gzip) {
    stream_deadline_ = Clock::now() + kResponseDeadline;
    std::string buffer;
    buffer.reserve(kChunkBytes);
    bool chunked = false, client_gone = false;
    std::string pending;  // the head, sent with the first chunk
    const auto send = [&](std::string_view bytes) {
      if (client_gone || bytes.empty()) return !client_gone;
      char size[32];
      std::snprintf(size, sizeof size, "%zx\r\n", bytes.size());
      pending.append(size).append(bytes).append("\r\n");
      client_gone = !send_blocking(std::exchange(pending, {}));
      return !client_gone;
    };
    std::optional<GzipWriter> gz;
    auto pass_on = [&](std::string_view bytes) { return gz ? gz->write(bytes) : send(bytes); };
    res.body_writer([&](std::string_view piece) {
      buffer.append(piece);
      if (buffer.size() < kChunkBytes) return true;
      if (!chunked) {
        chunked = true;
        if (gzip) {
          res.headers.emplace("Content-Encoding", "gzip");
          gz.emplace(send);
        }
        pending = response_head(res.status, res.content_type, res.headers, std::nullopt, keep_alive_);
        if (head_only_) {
          client_gone = !send_blocking(std::exchange(pending, {}));
          return false;
        }
      }
      if (!pass_on(buffer)) return false;
      buffer.clear();
      return true;
    });
    if (!chunked) {
      res.body = std::move(buffer);
      res.body_writer = nullptr;
      return answer(res, gzip);
    }
    if (!head_only_ && !client_gone) {
      if ((buffer.empty() || pass_on(buffer)) && gz) gz->finish();
      if (!client_gone) client_gone = !send_blocking("0\r\n\r\n");
    }
    const bool again = keep_alive_ && !client_gone;
    asio::post(lowest().get_executor(), [self = this->shared_from_this(), again] {
      again ? self->read_request() : self->close();
    });
  }

  // Writes `bytes` on the strand and waits for it; false when the client is gone, too slow,
  // or the server stopped.
  bool send_blocking(std::string bytes) {
    auto data = std::make_shared<std::string>(std::move(bytes));
    auto done = std::make_shared<std::promise<bool>>();
    auto result = done->get_future();
    asio::post(lowest().get_executor(), [self = this->shared_from_this(), data, done] {
      self->lowest().expires_at(std::min(Clock::now() + self->write_timeout(), self->stream_deadline_));
      asio::async_write(self->stream_, asio::buffer(*data),
                        [data, done](beast::error_code ec, size_t) { done->set_value(!ec); });
    });
    // The write has its own deadline; this only notices an I/O loop that stopped.
    while (result.wait_for(std::chrono::milliseconds(100)) != std::future_status::ready) {
      if (impl_.stop_requested) return false;
    }
    return result.get();
  }

  struct Outgoing {
    std::string head;
    std::string body;
    size_t sent = 0;
    Clock::time_point deadline = Clock::now() + kResponseDeadline;
  };

  // Writes an answer slice by slice, then reads the next request or closes.
  void write(std::shared_ptr<Outgoing> out) {
    const size_t total = out->head.size() + out->body.size();
    if (out->sent >= total) return keep_alive_ ? read_request() : close();
    std::array<asio::const_buffer, 2> slice;
    size_t n = 0, want = kWriteSliceBytes;
    auto take = [&](const std::string& s, size_t from) {
      if (from >= s.size() || want == 0) return;
      const size_t k = std::min(want, s.size() - from);
      slice[n++] = asio::buffer(s.data() + from, k);
      want -= k;
    };
    take(out->head, out->sent);
    take(out->body, out->sent > out->head.size() ? out->sent - out->head.size() : 0);
    lowest().expires_at(std::min(Clock::now() + write_timeout(), out->deadline));
    asio::async_write(stream_, std::vector<asio::const_buffer>(slice.begin(), slice.begin() + n),
                      [self = this->shared_from_this(), out](beast::error_code ec, size_t written) {
                        if (ec) return self->close();
                        out->sent += written;
                        self->write(out);
                      });
  }

  // An answer of the server's own (malformed request, unknown path, too large, busy).
  void refuse(int status, const std::string& path, bool keep_alive = false) {
    if (!path.empty() || status != 400) impl_.observe_error(path, status);
    keep_alive_ = keep_alive;
    head_only_ = false;
    auto out = std::make_shared<Outgoing>();
    out->body = std::to_string(status) + " " + reason_phrase(status) + "\n";
    out->head = response_head(status, "text/plain; charset=utf-8", {}, out->body.size(), keep_alive);
    write(out);
  }

  void close() {
    beast::error_code ignored;
    lowest().socket().shutdown(tcp::socket::shutdown_both, ignored);
    lowest().close();
  }

  WebServer::Impl& impl_;
  const std::shared_ptr<const Security> security_;  // holds the TLS context stream_ uses
  Stream stream_;
  const std::string remote_;
  beast::flat_buffer buffer_;
  std::optional<http::request_parser<http::string_body>> parser_;
  Clock::time_point request_deadline_;
  Clock::time_point stream_deadline_;  // for the whole of a streamed answer
  int requests_ = 0;
  bool keep_alive_ = false;
  bool head_only_ = false;
};

}  // namespace

template <class Stream>
void WebServer::Impl::start_session(tcp::socket socket, std::shared_ptr<const Security> snapshot) {
  beast::error_code ec;
  const auto peer = socket.remote_endpoint(ec);
  const std::string remote = ec ? "" : peer.address().to_string();
  socket.set_option(tcp::no_delay(true), ec);
  ++connections;
  if constexpr (std::is_same_v<Stream, beast::tcp_stream>) {
    std::make_shared<Session<Stream>>(*this, remote, snapshot, std::move(socket))->start();
  } else {
    auto& tls = *snapshot->tls;
    std::make_shared<Session<Stream>>(*this, remote, snapshot, std::move(socket), tls)->start();
  }
}

void WebServer::Impl::accept() {
  acceptor->async_accept(asio::make_strand(ioc), [this](beast::error_code ec, tcp::socket socket) {
    if (stop_requested || !acceptor->is_open()) return;
    if (ec) {
      // Out of file descriptors: accepting again at once would spin.
      if (ec == asio::error::no_descriptors || ec.value() == ENFILE || ec == asio::error::no_buffer_space) {
        spdlog::warn("HTTP server cannot accept a connection: {}", ec.message());
        accept_retry.expires_after(std::chrono::milliseconds(100));
        accept_retry.async_wait([this](beast::error_code e) {
          if (!e) accept();
        });
        return;
      }
      return accept();
    }
    if (connections >= max_connections) {
      beast::error_code ignored;
      socket.close(ignored);  // over the cap: refused at once rather than left in the backlog
    } else {
      auto snapshot = current_security();
      if (snapshot->tls) {
        start_session<beast::ssl_stream<beast::tcp_stream>>(std::move(socket), snapshot);
      } else {
        start_session<beast::tcp_stream>(std::move(socket), snapshot);
      }
    }
    accept();
  });
}

WebServer::WebServer(WebServerOptions options, const WebConfig& web_config)
    : impl_(std::make_unique<Impl>()) {
  impl_->options = std::move(options);
  // Each connection is a file descriptor; leave some for probes, state and logs.
  rlimit nofile{};
  size_t fds = 1024;
  if (getrlimit(RLIMIT_NOFILE, &nofile) == 0 && nofile.rlim_cur != RLIM_INFINITY) fds = nofile.rlim_cur;
  impl_->max_connections = std::min(impl_->options.max_connections, fds > 512 ? fds - 256 : fds / 2);
  impl_->security = make_security(web_config, &impl_->security_error);
  impl_->workers = std::make_unique<WorkerPool>(impl_->options.worker_threads, impl_->options.max_queued_requests);
  impl_->reserved_workers = std::make_unique<WorkerPool>(impl_->options.reserved_worker_threads,
                                                         impl_->options.max_queued_requests);
}

WebServer::~WebServer() { stop(); }

void WebServer::on_server_error(std::function<void(const std::string&, int)> observer) {
  impl_->error_observer = std::move(observer);
}

void WebServer::get(const std::string& path, HttpHandler h) { route("GET", path, std::move(h)); }
void WebServer::post(const std::string& path, HttpHandler h) { route("POST", path, std::move(h)); }
// A request without Content-Length has no body (RFC 9112 section 6.3), so the plain route
// already takes `curl -X POST .../-/reload`; a body that is sent is read, bounded, and ignored.
void WebServer::post_ignoring_body(const std::string& path, HttpHandler h) { post(path, std::move(h)); }

void WebServer::route(const std::string& method, const std::string& path, HttpHandler h) {
  const auto& reserved = impl_->options.reserved_paths;
  const bool is_reserved = std::find(reserved.begin(), reserved.end(), path) != reserved.end();
  impl_->routes[path][method] = Route{std::move(h), is_reserved};
}

bool WebServer::set_web_config(const WebConfig& web_config, std::string* error) {
  std::string why;
  auto security = make_security(web_config, &why);
  if (!security) {
    if (error) *error = why;
    return false;
  }
  std::lock_guard lock(impl_->security_mu);
  impl_->security = std::move(security);
  return true;
}

bool WebServer::bind(const ListenAddress& address, std::string* error) {
  auto fail = [&](const std::string& why) {
    if (error) {
      *error = "cannot listen on " + address.host + ":" + std::to_string(address.port) + ": " + why +
               " (is another process using the port?)";
    }
    return false;
  };
  if (!impl_->security) return fail(impl_->security_error);
  beast::error_code ec;
  tcp::endpoint endpoint;
  const auto ip = asio::ip::make_address(address.host, ec);
  if (!ec) {
    endpoint = tcp::endpoint(ip, static_cast<unsigned short>(address.port));
  } else {
    tcp::resolver resolver(impl_->ioc);
    auto found = resolver.resolve(address.host, std::to_string(address.port), tcp::resolver::passive, ec);
    if (ec || found.empty()) return fail(ec ? ec.message() : "no address");
    endpoint = *found.begin();
  }
  tcp::acceptor acceptor(impl_->ioc);
  acceptor.open(endpoint.protocol(), ec);
  if (!ec && endpoint.address().is_v6() && endpoint.address().is_unspecified()) {
    acceptor.set_option(asio::ip::v6_only(false), ec);  // "::" is every address, v4 too
  }
  // Only SO_REUSEADDR (not SO_REUSEPORT, which lets a second exporter bind the same port
  // silently), so a taken port is an error at start.
  if (!ec) acceptor.set_option(tcp::acceptor::reuse_address(true), ec);
  if (!ec) acceptor.bind(endpoint, ec);
  if (!ec) acceptor.listen(asio::socket_base::max_listen_connections, ec);
  if (ec) return fail(ec.message());
  impl_->port = acceptor.local_endpoint().port();
  impl_->acceptor.emplace(std::move(acceptor));
  return true;
}

int WebServer::port() const { return impl_->port; }

void WebServer::serve() {
  if (!impl_->acceptor || impl_->stop_requested) return;
  impl_->accept();
  std::vector<std::thread> more;
  for (int i = 1; i < kIoThreads; ++i) more.emplace_back([this] { impl_->ioc.run(); });
  impl_->ioc.run();
  for (auto& t : more) t.join();
}

void WebServer::stop() {
  if (impl_->stop_requested.exchange(true)) return;
  // The loop stays stopped even if serve() has not started it yet.
  asio::post(impl_->ioc, [impl = impl_.get()] {
    beast::error_code ignored;
    if (impl->acceptor) impl->acceptor->close(ignored);
  });
  impl_->ioc.stop();
  impl_->reserved_workers->stop();
  impl_->workers->stop();
}

}  // namespace mailtls::exporter
