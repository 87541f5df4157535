#pragma once
// The running exporter: configuration, the probe scheduler, state, metrics and the web
// endpoints, tied together. main() builds one from flags and a loaded config, starts it and
// serves until a signal; tests build one on an ephemeral loopback port with a scripted prober.

#include <prometheus/counter.h>
#include <prometheus/registry.h>

#include <atomic>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <unordered_set>

#include "exporter/config/config.h"
#include "exporter/runtime/domain_prober.h"
#include "exporter/cli/flags.h"
#include "exporter/exposition/handshake_histograms.h"
#include "exporter/exposition/probe_results_collector.h"
#include "exporter/runtime/scheduler.h"
#include "exporter/runtime/sharding.h"
#include "exporter/runtime/state_store.h"
#include "exporter/runtime/storage_lock.h"
#include "exporter/tlsrpt/tlsrpt_receiver.h"
#include "exporter/config/web_config.h"
#include "exporter/http/web_server.h"

namespace mailtls::exporter {

class Exporter {
 public:
  // `prober_factory` may be empty: the exporter then serves only its own metrics.
  Exporter(Flags flags, Config config, const WebConfig& web_config = {},
           DomainProberFactory prober_factory = {}, Sharding sharding = {});
  ~Exporter();

  // Opens the state, builds the prober, binds the listen address and starts probing; false
  // with a one-line reason (port taken, bad address, resolver cannot be set up).
  bool start(std::string* error);
  // /metrics answers with at least this much probe-result text are served, to clients that
  // accept gzip, from a background render at most 5 s old (default 1 MiB, about 150
  // domains). For tests; call before start().
  void set_metrics_cache_min_bytes(size_t n) { metrics_cache_min_bytes_ = n; }
  int port() const { return web_.port(); }
  // Serves HTTP until shutdown() is called (from a signal handler thread or a test).
  void serve();
  void shutdown();
  // Re-reads the config file. A bad file is logged and the running config stays. Reloads run
  // one at a time; one asked for while another runs waits for it (at most a minute).
  bool reload(std::string* error);

  bool ready() const { return ready_; }
  long probes_completed() const { return scheduler_ ? scheduler_->completed() : 0; }

 private:
  void register_routes();
  void run_probe(const DomainConfig& domain);
  HttpResponse handle_probe(const HttpRequest& req);
  bool probe_allowed(const std::string& domain, DomainConfig* out) const;
  std::vector<DomainConfig> owned_domains(const Config& c) const;
  void save_state();
  std::function<void(const BodyPieceWriter&)> metrics_writer() const;
  void render_metrics_gzip();

  Flags flags_;
  DomainProberFactory prober_factory_;
  Sharding sharding_;
  std::timed_mutex reload_mu_;  // held by the one reload() that runs
  mutable std::mutex config_mu_;
  Config config_;
  std::unordered_set<std::string> configured_names_;  // of config_.domains; guarded by config_mu_
  std::shared_ptr<DomainProber> prober_;  // guarded by config_mu_
  std::atomic<bool> ready_{false};
  std::atomic<int> adhoc_probes_{0};

  StorageLock storage_lock_;  // held from start() on; outlives state_
  std::unique_ptr<StateStore> state_;
  std::shared_ptr<prometheus::Registry> registry_;
  prometheus::Gauge* reload_successful_ = nullptr;
  prometheus::Gauge* reload_timestamp_ = nullptr;
  prometheus::Gauge* domains_configured_ = nullptr;
  prometheus::Counter* state_save_failures_ = nullptr;
  HandshakeHistograms handshakes_;
  std::shared_ptr<ProbeResultsCollector> results_;
  // Rendered after registry_ and results_, in this order.
  std::vector<std::shared_ptr<prometheus::Collectable>> collectables_;
  std::unique_ptr<Scheduler> scheduler_;
  std::shared_ptr<TlsRptReceiver> tlsrpt_;  // when tlsrpt_receiver.enabled
  std::jthread maildir_watcher_;
  std::jthread state_saver_;
  // The whole /metrics answer gzipped, rendered every kMetricsRenderInterval while the probe
  // results are at least metrics_cache_min_bytes_ of text; null below that (then every scrape
  // renders).
  std::jthread metrics_renderer_;
  std::mutex rendered_mu_;
  std::shared_ptr<const std::string> rendered_gzip_;
  size_t metrics_cache_min_bytes_ = 1 << 20;  // about 150 domains
  WebServer web_;
};

}  // namespace mailtls::exporter
