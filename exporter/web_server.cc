#include "exporter/web_server.h"

#include <httplib.h>
#include <spdlog/spdlog.h>
#include <strings.h>

#include <atomic>
#include <chrono>
#include <cstring>
#include <thread>

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
  std::unique_ptr<httplib::Server> server = std::make_unique<httplib::Server>();
  std::atomic<int> port{-1};
  bool bound = false;
  std::atomic<bool> stop_requested{false};
  std::atomic<bool> serving{false};
};

namespace {

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
    for (const auto& [k, v] : res.headers) out.set_header(k, v);
    out.set_content(res.body, res.content_type);
  };
}

}  // namespace

WebServer::WebServer(WebServerOptions options) : impl_(std::make_unique<Impl>()) {
  auto& s = *impl_->server;
  s.set_payload_max_length(options.max_body_bytes);
  s.set_read_timeout(options.read_timeout_seconds, 0);
  s.set_write_timeout(options.write_timeout_seconds, 0);
  s.set_keep_alive_max_count(100);
  // cpp-httplib's default also sets SO_REUSEPORT, which lets a second exporter bind the same
  // port silently; only SO_REUSEADDR, so a taken port is an error at start.
  s.set_socket_options([](socket_t sock) {
    int yes = 1;
    setsockopt(sock, SOL_SOCKET, SO_REUSEADDR, &yes, sizeof yes);
  });
  s.set_error_handler([](const httplib::Request&, httplib::Response& res) {
    if (res.body.empty()) {
      res.set_content(std::to_string(res.status) + "\n", "text/plain; charset=utf-8");
    }
  });
}

WebServer::~WebServer() { stop(); }

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
