#pragma once
// The running exporter: configuration, metrics registries and the web endpoints, tied
// together. main() builds one from flags and a loaded config, starts it and serves until a
// signal; tests build one on an ephemeral loopback port.

#include <prometheus/registry.h>

#include <atomic>
#include <memory>
#include <mutex>
#include <string>

#include "exporter/config.h"
#include "exporter/flags.h"
#include "exporter/web_config.h"
#include "exporter/web_server.h"

namespace mailtls::exporter {

class Exporter {
 public:
  Exporter(Flags flags, Config config, const WebConfig& web_config = {});
  ~Exporter();

  // Binds the listen address; false with a one-line reason (port taken, bad address).
  bool start(std::string* error);
  int port() const { return web_.port(); }
  // Serves HTTP until shutdown() is called (from a signal handler thread or a test).
  void serve();
  void shutdown();
  // Re-reads the config file. A bad file is logged and the running config stays.
  bool reload(std::string* error);

  bool ready() const { return ready_; }
  std::string metrics_text() const;

 private:
  void register_routes();
  void apply_config(Config config);

  Flags flags_;
  mutable std::mutex config_mu_;
  Config config_;
  std::atomic<bool> ready_{false};

  std::shared_ptr<prometheus::Registry> registry_;
  prometheus::Gauge* reload_successful_ = nullptr;
  prometheus::Gauge* reload_timestamp_ = nullptr;
  prometheus::Gauge* domains_configured_ = nullptr;
  std::vector<std::shared_ptr<prometheus::Collectable>> collectables_;
  WebServer web_;
};

}  // namespace mailtls::exporter
