#pragma once
// The exporter's HTTP server. cpp-httplib stays behind this interface: handlers see plain
// request and response structs. Debian's civetweb has neither TLS nor IPv6 listening, so the
// server is cpp-httplib (OpenSSL) rather than prometheus-cpp's Exposer.
// Thread safety: routes are added before serve(); handlers run on the server's worker threads.

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <string_view>

#include "exporter/listen_address.h"
#include "exporter/web_config.h"

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
  std::uint64_t max_body_bytes = 1 << 20;  // larger request bodies get 413
  int read_timeout_seconds = 10;           // slow clients are cut off
  int write_timeout_seconds = 10;
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
  // A POST whose body is ignored: works for clients that send no Content-Length at all
  // (`curl -X POST .../-/reload`), which cpp-httplib otherwise answers with 400.
  void post_ignoring_body(const std::string& path, HttpHandler h);

  // Binds the listening socket; false with a reason when the address is taken or invalid.
  bool bind(const ListenAddress& address, std::string* error);
  int port() const;
  // Serves until stop(); returns at once if bind() did not succeed.
  void serve();
  void stop();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace mailtls::exporter
