#include "exporter/http/reloading_tls_context.h"

#include <spdlog/spdlog.h>

#include "exporter/config/tls_server_context.h"

namespace mailtls::exporter {
namespace {

std::string joined(const TlsPem& pem) {
  // Lengths first, so that moving text from one file to the next is a change too.
  return std::to_string(pem.cert.size()) + "/" + std::to_string(pem.key.size()) + "/" +
         std::to_string(pem.client_ca.size()) + "\n" + pem.cert + pem.key + pem.client_ca;
}

std::shared_ptr<boost::asio::ssl::context> wrap(SslCtxPtr ctx) {
  // asio's context takes ownership of the SSL_CTX.
  return std::make_shared<boost::asio::ssl::context>(ctx.release());
}

}  // namespace

ReloadingTlsContext::ReloadingTlsContext(WebTlsConfig config, std::function<void()> on_reload_failure)
    : config_(std::move(config)), on_reload_failure_(std::move(on_reload_failure)) {}

std::shared_ptr<ReloadingTlsContext> ReloadingTlsContext::load(const WebTlsConfig& config,
                                                               std::function<void()> on_reload_failure,
                                                               std::string* error) {
  std::shared_ptr<ReloadingTlsContext> r(new ReloadingTlsContext(config, std::move(on_reload_failure)));
  r->stamps_ = r->stamp_files();  // before reading: a change while reading is seen next time
  const auto pem = read_tls_pem(config, error);
  if (!pem) return nullptr;
  auto ctx = make_server_ssl_ctx(config, *pem, error);
  if (!ctx) return nullptr;
  r->context_ = wrap(std::move(ctx));
  r->loaded_content_ = joined(*pem);
  r->last_look_ = Clock::now();
  return r;
}

std::vector<ReloadingTlsContext::FileStamp> ReloadingTlsContext::stamp_files() const {
  std::vector<FileStamp> out;
  for (const std::string* path : {&config_.cert_file, &config_.key_file, &config_.client_ca_file}) {
    FileStamp s;
    struct stat st {};
    if (!path->empty() && ::stat(path->c_str(), &st) == 0) {
      s = FileStamp{st.st_dev, st.st_ino, st.st_size,
                    static_cast<std::int64_t>(st.st_mtim.tv_sec) * 1000000000 + st.st_mtim.tv_nsec,
                    static_cast<std::int64_t>(st.st_ctim.tv_sec) * 1000000000 + st.st_ctim.tv_nsec};
    }
    out.push_back(s);
  }
  return out;
}

std::shared_ptr<boost::asio::ssl::context> ReloadingTlsContext::current() {
  std::lock_guard lock(mu_);
  const bool has_files = !config_.cert_file.empty() || !config_.key_file.empty() || !config_.client_ca_file.empty();
  if (has_files && Clock::now() - last_look_ >= kRecheckInterval) reload_if_changed();
  return context_;
}

void ReloadingTlsContext::reload_if_changed() {
  last_look_ = Clock::now();
  auto stamps = stamp_files();
  if (stamps == stamps_) return;
  stamps_ = std::move(stamps);
  std::string error;
  const auto pem = read_tls_pem(config_, &error);
  std::string content = pem ? joined(*pem) : "unreadable: " + error;
  if (content == loaded_content_ || content == failed_content_) return;  // touched, not changed
  SslCtxPtr ctx = pem ? make_server_ssl_ctx(config_, *pem, &error) : nullptr;
  if (!ctx) {
    failed_content_ = std::move(content);
    spdlog::warn("web TLS files changed but do not load, keeping the certificate in use: {}", error);
    if (on_reload_failure_) on_reload_failure_();
    return;
  }
  context_ = wrap(std::move(ctx));
  loaded_content_ = std::move(content);
  failed_content_.clear();
  spdlog::info("web TLS certificate, key or client CA changed on disk: reloaded");
}

}  // namespace mailtls::exporter
