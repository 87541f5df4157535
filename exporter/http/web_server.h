#pragma once
// The exporter's HTTP server, on Boost.Beast/Asio behind this interface: handlers see plain
// request and response structs. Requests are read by two event-driven I/O threads, each
// against one deadline for the whole request and with a bounded head (robustness findings 6
// and 7: a thread per connection was held by every slow client); handlers run on a bounded
// worker pool once the request is whole, /metrics and the health checks on a reserved one.
// Debian's civetweb has neither TLS nor IPv6 listening, hence not prometheus-cpp's Exposer.
// Thread safety: routes are added before serve(); handlers run on the server's worker threads.

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "exporter/http/listen_address.h"
#include "exporter/config/web_config.h"

namespace mailtls::exporter {

struct HttpRequest {
  std::string method;
  std::string path;
  std::multimap<std::string, std::string> params;   // query string
  std::multimap<std::string, std::string> headers;  // names as received
  std::string body;
  std::string remote_addr;

  std::string param(const std::string& name) const;
  std::string header(const std::string& name) const;  // case-insensitive
};

// Writes a response body in pieces; returns false when the client is gone (stop writing).
using BodyPieceWriter = std::function<bool(std::string_view)>;

struct HttpResponse {
  int status = 200;
  std::string content_type = "text/plain; charset=utf-8";
  std::string body;
  std::multimap<std::string, std::string> headers;
  // When set, the body is not `body` but what this writes, produced while it is sent (chunked
  // transfer encoding, gzipped for clients that accept it): a large answer is never held whole
  // in memory. Runs on the server's worker thread after the handler returned.
  std::function<void(const BodyPieceWriter& write)> body_writer = nullptr;
};

using HttpHandler = std::function<HttpResponse(const HttpRequest&)>;

struct WebServerOptions {
  std::uint64_t max_body_bytes = 1 << 20;  // larger request bodies get 413, at once
  int read_timeout_seconds = 10;   // for a whole request (TLS handshake, head, body) and idling
  int write_timeout_seconds = 10;  // for each 256 KiB of an answer
  size_t max_header_bytes = 32 << 10;  // request line and header fields; more gets 431
  size_t max_connections = 8192;       // more are closed at once; also kept below RLIMIT_NOFILE
  int keep_alive_max_requests = 100;   // then the connection is closed
  size_t worker_threads = 64;          // for handlers (a /probe call holds one for its probe)
  size_t reserved_worker_threads = 4;  // for reserved_paths only
  size_t max_queued_requests = 256;    // per pool; more get 503
  std::vector<std::string> reserved_paths = {"/metrics", "/-/healthy", "/-/ready"};
};

class WebServer {
 public:
  // With a web config: TLS (optionally requiring client certificates) and basic auth on
  // every endpoint. The config must come from load_web_config_*, which checked the files.
  explicit WebServer(WebServerOptions options = {}, const WebConfig& web_config = {});
  ~WebServer();
  WebServer(const WebServer&) = delete;
  WebServer& operator=(const WebServer&) = delete;

  // Called for answers the server gives on its own (404, 413 for oversized bodies, ...).
  void on_server_error(std::function<void(const std::string& path, int status)> observer);
  void get(const std::string& path, HttpHandler h);
  void post(const std::string& path, HttpHandler h);
  // A POST whose body is ignored; also for clients that send no Content-Length at all
  // (`curl -X POST .../-/reload`). A body that is sent is read (bounded) and dropped.
  void post_ignoring_body(const std::string& path, HttpHandler h);

  // Takes a re-read web config: its certificate for connections accepted from now on, its
  // users for every request from now on. False with a reason (the old one stays) when its
  // files cannot be loaded.
  bool set_web_config(const WebConfig& web_config, std::string* error);

  // Binds the listening socket; false with a reason when the address is taken or invalid.
  bool bind(const ListenAddress& address, std::string* error);
  int port() const;
  // Serves until stop(); returns at once if bind() did not succeed.
  void serve();
  void stop();

  struct Impl;  // public only so that web_server.cc's helpers can name it

 private:
  void route(const std::string& method, const std::string& path, HttpHandler h);
  std::unique_ptr<Impl> impl_;
};

}  // namespace mailtls::exporter
