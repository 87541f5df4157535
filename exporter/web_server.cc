#include "exporter/web_server.h"

#include <httplib.h>
#include <openssl/evp.h>
#include <spdlog/spdlog.h>
#include <strings.h>

#include <atomic>
#include <chrono>
#include <cstring>
#include <mutex>
#include <optional>
#include <set>
#include <thread>

#include "exporter/response_compression.h"
#include "probes/tls/certificate.h"

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

struct WebServer::Impl {
  std::unique_ptr<httplib::Server> server;
  std::map<std::string, std::string> users;  // basic auth: user -> bcrypt hash
  std::mutex auth_cache_mu;
  std::set<std::string> auth_cache;  // SHA-256 of "user:password" pairs already verified
  std::function<void(const std::string&, int)> error_observer;
  std::atomic<int> port{-1};
  bool bound = false;
  std::atomic<bool> stop_requested{false};
  std::atomic<bool> serving{false};
};

namespace {

// Set by a handler that answered with an error status itself, so the error handler (which
// cpp-httplib calls for every status >= 400 on the same thread) can tell its own answers
// from the server's (404, 413 for oversized bodies).
thread_local bool t_handler_answered_error = false;

constexpr size_t kWorkerThreads = 128;

std::unique_ptr<httplib::Server> make_server(const WebConfig& wc) {
  if (!wc.tls) return std::make_unique<httplib::Server>();
  const WebTlsConfig t = *wc.tls;
  return std::make_unique<httplib::SSLServer>([t](SSL_CTX& ctx) {
    SSL_CTX_set_min_proto_version(&ctx, t.min_version ? t.min_version : TLS1_2_VERSION);
    if (SSL_CTX_use_certificate_chain_file(&ctx, t.cert_file.c_str()) != 1 ||
        SSL_CTX_use_PrivateKey_file(&ctx, t.key_file.c_str(), SSL_FILETYPE_PEM) != 1) {
      return false;
    }
    if (!t.client_ca_file.empty()) {
      SSL_CTX_load_verify_locations(&ctx, t.client_ca_file.c_str(), nullptr);
      if (t.require_client_cert) {
        SSL_CTX_set_verify(&ctx, SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT, nullptr);
      }
    }
    return true;
  });
}

std::string sha256_hex(const std::string& s) {
  return tls::sha256_hex(std::span(reinterpret_cast<const std::uint8_t*>(s.data()), s.size()));
}

// "Basic dXNlcjpwYXNz" -> "user:pass"; empty when malformed.
std::string decode_basic_credentials(const std::string& header) {
  if (header.size() < 7 || strncasecmp(header.c_str(), "Basic ", 6) != 0) return "";
  const std::string b64 = header.substr(6);
  if (b64.empty() || b64.size() > 4096 || b64.size() % 4 != 0) return "";
  std::string out(b64.size() / 4 * 3, '\0');
  int n = EVP_DecodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                          reinterpret_cast<const unsigned char*>(b64.data()),
                          static_cast<int>(b64.size()));
  if (n < 0) return "";
  size_t len = static_cast<size_t>(n);
  for (size_t i = b64.size(); i > 0 && b64[i - 1] == '='; --i) --len;  // padding
  out.resize(len);
  return out;
}

// Sends what `writer` writes as chunks of about kChunkBytes (one chunk per small piece would
// be one send() each), through gzip when asked, then ends the body.
void stream_body(const std::function<void(const BodyPieceWriter&)>& writer, bool gzip,
                 httplib::DataSink& sink) {
  constexpr size_t kChunkBytes = 64 << 10;
  bool client_gone = false;
  auto send = [&](std::string_view bytes) {
    if (!client_gone && !sink.write(bytes.data(), bytes.size())) client_gone = true;
    return !client_gone;
  };
  std::optional<GzipWriter> gz;
  if (gzip) gz.emplace(send);
  auto pass_on = [&](std::string_view bytes) { return gz ? gz->write(bytes) : send(bytes); };
  std::string buffer;
  buffer.reserve(kChunkBytes);
  writer([&](std::string_view piece) {
    buffer.append(piece);
    if (buffer.size() >= kChunkBytes) {
      if (!pass_on(buffer)) return false;
      buffer.clear();
    }
    return true;
  });
  if ((buffer.empty() || pass_on(buffer)) && gz) gz->finish();
  if (!client_gone) sink.done();
}

httplib::Server::Handler adapt(HttpHandler h) {
  return [h = std::move(h)](const httplib::Request& in, httplib::Response& out) {
    HttpRequest req;
    req.method = in.method;
    req.path = in.path;
    req.body = in.body;
    req.remote_addr = in.remote_addr;
    for (const auto& [k, v] : in.params) req.params.emplace(k, v);
    for (const auto& [k, v] : in.headers) req.headers.emplace(k, v);
    HttpResponse res;
    try {
      res = h(req);
    } catch (const std::exception& e) {
      spdlog::error("handler for {} failed: {}", in.path, e.what());
      res = HttpResponse{500, "text/plain; charset=utf-8", "internal error\n", {}};
    }
    out.status = res.status;
    t_handler_answered_error = res.status >= 400;
    for (const auto& [k, v] : res.headers) out.set_header(k, v);
    // Compression is ours (response_compression.h): cpp-httplib compresses when the request
    // carries Accept-Encoding, so the header is taken out of the request it reads after this
    // handler. (The Request is cpp-httplib's own non-const object, handed to handlers as const.)
    const std::string accept_encoding = in.get_header_value("Accept-Encoding");
    const_cast<httplib::Request&>(in).headers.erase("Accept-Encoding");
    const bool gzip = accepts_gzip(accept_encoding) && res.content_type.rfind("text/", 0) == 0;
    if (res.body_writer) {
      out.set_header("Vary", "Accept-Encoding");
      if (gzip) out.set_header("Content-Encoding", "gzip");
      out.set_chunked_content_provider(
          res.content_type, [writer = std::move(res.body_writer), gzip](size_t, httplib::DataSink& sink) {
            stream_body(writer, gzip, sink);
            return true;
          });
      return;
    }
    const bool encoded = res.headers.count("Content-Encoding") > 0;  // the handler's own gzip
    if (res.body.size() >= kMinCompressedBodyBytes && gzip && !encoded) {
      if (auto gz = gzip_compress(res.body); !gz.empty()) {
        res.body = std::move(gz);
        out.set_header("Content-Encoding", "gzip");
      }
    }
    out.set_header("Vary", "Accept-Encoding");
    // Moved rather than set_content()'s copy: a /metrics answer is ~66 MB at 10,000 domains.
    out.body = std::move(res.body);
    out.set_header("Content-Type", res.content_type);
  };
}

}  // namespace

WebServer::WebServer(WebServerOptions options, const WebConfig& web_config)
    : impl_(std::make_unique<Impl>()) {
  impl_->server = make_server(web_config);
  impl_->users = web_config.basic_auth_users;
  auto& s = *impl_->server;
  if (!impl_->users.empty()) {
    s.set_pre_routing_handler([impl = impl_.get()](const httplib::Request& req,
                                                   httplib::Response& res) {
      const std::string creds = decode_basic_credentials(req.get_header_value("Authorization"));
      if (auto colon = creds.find(':'); colon != std::string::npos) {
        const std::string key = sha256_hex(creds);
        {
          std::lock_guard lock(impl->auth_cache_mu);
          if (impl->auth_cache.count(key)) return httplib::Server::HandlerResponse::Unhandled;
        }
        auto it = impl->users.find(creds.substr(0, colon));
        if (it != impl->users.end() && bcrypt_matches(creds.substr(colon + 1), it->second)) {
          std::lock_guard lock(impl->auth_cache_mu);
          if (impl->auth_cache.size() > 1000) impl->auth_cache.clear();
          impl->auth_cache.insert(key);
          return httplib::Server::HandlerResponse::Unhandled;
        }
      }
      res.status = 401;
      res.set_header("WWW-Authenticate", "Basic realm=\"mailtls_exporter\"");
      res.set_content("Unauthorized\n", "text/plain; charset=utf-8");
      return httplib::Server::HandlerResponse::Handled;
    });
  }
  s.set_payload_max_length(options.max_body_bytes);
  s.set_read_timeout(options.read_timeout_seconds, 0);
  s.set_write_timeout(options.write_timeout_seconds, 0);
  s.set_keep_alive_max_count(100);
  // cpp-httplib writes the status line and headers, then the body: without TCP_NODELAY the
  // second write of a small answer waits for the client's delayed ACK (~40 ms per /probe on a
  // kept-alive connection; blackbox_exporter, in Go, has Nagle off too).
  s.set_tcp_nodelay(true);
  // cpp-httplib serves each connection on a pool thread until the request is read, with no
  // deadline for the whole request: a client dribbling its headers holds a thread. The default
  // pool (8) was exhausted by 16 such clients and /metrics stopped answering (robustness
  // finding R4). A larger pool raises that bar; a scrape needs one thread.
  s.new_task_queue = [] { return new httplib::ThreadPool(kWorkerThreads); };
  // cpp-httplib's default also sets SO_REUSEPORT, which lets a second exporter bind the same
  // port silently; only SO_REUSEADDR, so a taken port is an error at start.
  s.set_socket_options([](socket_t sock) {
    int yes = 1;
    setsockopt(sock, SOL_SOCKET, SO_REUSEADDR, &yes, sizeof yes);
  });
  s.set_error_handler([impl = impl_.get()](const httplib::Request& req, httplib::Response& res) {
    const bool from_handler = std::exchange(t_handler_answered_error, false);
    if (impl->error_observer && !from_handler) impl->error_observer(req.path, res.status);
    if (res.body.empty()) {
      res.set_content(std::to_string(res.status) + "\n", "text/plain; charset=utf-8");
    }
  });
}

WebServer::~WebServer() { stop(); }

void WebServer::on_server_error(std::function<void(const std::string&, int)> observer) {
  impl_->error_observer = std::move(observer);
}

void WebServer::get(const std::string& path, HttpHandler h) {
  impl_->server->Get(path, adapt(std::move(h)));
}
void WebServer::post(const std::string& path, HttpHandler h) {
  impl_->server->Post(path, adapt(std::move(h)));
}

void WebServer::post_ignoring_body(const std::string& path, HttpHandler h) {
  auto handler = adapt(std::move(h));
  impl_->server->Post(path, [handler](const httplib::Request& in, httplib::Response& out,
                                      const httplib::ContentReader&) { handler(in, out); });
}

bool WebServer::bind(const ListenAddress& address, std::string* error) {
  int port = address.port;
  bool ok;
  if (port == 0) {
    port = impl_->server->bind_to_any_port(address.host);
    ok = port > 0;
  } else {
    ok = impl_->server->bind_to_port(address.host, port);
  }
  if (!ok) {
    if (error) {
      *error = "cannot listen on " + address.host + ":" + std::to_string(address.port) +
               ": " + std::strerror(errno) + " (is another process using the port?)";
    }
    return false;
  }
  impl_->port = port;
  impl_->bound = true;
  return true;
}

int WebServer::port() const { return impl_->port; }

void WebServer::serve() {
  if (!impl_->bound) return;
  impl_->serving = true;
  if (!impl_->stop_requested) impl_->server->listen_after_bind();
  impl_->serving = false;
}

void WebServer::stop() {
  impl_->stop_requested = true;
  // serve() may be between its check and the start of the accept loop: wait for it, bounded.
  for (int i = 0; i < 5000 && impl_->serving && !impl_->server->is_running(); ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  impl_->server->stop();
}

}  // namespace mailtls::exporter
