#pragma once
// The TLS context the server hands each new connection, reread when the certificate, key or
// client CA files change on disk (cert-manager, a Kubernetes Secret's symlink swap, certbot),
// without a restart: connections already open keep the context they started with. A new set
// of files that does not load (a key that does not match yet, a truncated PEM) keeps the one
// in use; that is logged once per new content and counted.
// Thread safe.

#include <sys/stat.h>

#include <atomic>
#include <boost/asio/ssl/context.hpp>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "exporter/config/web_config.h"

namespace mailtls::exporter {

class ReloadingTlsContext {
 public:
  using Clock = std::chrono::steady_clock;
  // The files are looked at (stat) at most this often, from new connections.
  static constexpr auto kRecheckInterval = std::chrono::seconds(1);

  // Loads the context now; null with a reason when it does not load. `on_reload_failure` is
  // called for each new content of the files that does not load.
  static std::shared_ptr<ReloadingTlsContext> load(const WebTlsConfig& config, std::function<void()> on_reload_failure,
                                                   std::string* error);

  // For a new connection: the context, rebuilt first when a file changed since the last look.
  std::shared_ptr<boost::asio::ssl::context> current();

  struct FileStamp {  // what stat says of one file (a changed symlink target changes it)
    dev_t device = 0;
    ino_t inode = 0;
    off_t size = -1;
    std::int64_t mtime_ns = 0;
    std::int64_t ctime_ns = 0;
    bool operator==(const FileStamp&) const = default;
  };

 private:
  ReloadingTlsContext(WebTlsConfig config, std::function<void()> on_reload_failure);
  std::vector<FileStamp> stamp_files() const;
  void reload_if_changed();

  const WebTlsConfig config_;
  const std::function<void()> on_reload_failure_;
  std::mutex mu_;
  std::shared_ptr<boost::asio::ssl::context> context_;  // guarded by mu_
  std::string loaded_content_;                         // cert + key + CA in use; guarded by mu_
  std::string failed_content_;                         // the last content that did not load
  std::vector<FileStamp> stamps_;                      // at the last look; guarded by mu_
  Clock::time_point last_look_;                        // guarded by mu_
};

}  // namespace mailtls::exporter
