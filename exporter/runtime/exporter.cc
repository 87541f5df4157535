#include "exporter/runtime/exporter.h"

#include <prometheus/counter.h>
#include <prometheus/gauge.h>
#include <spdlog/spdlog.h>

#include <chrono>
#include <optional>

#include "exporter/runtime/adhoc_probe_slot.h"
#include "exporter/runtime/judged_probe.h"
#include "exporter/runtime/file_fingerprint.h"
#include "exporter/exposition/domain_metrics.h"
#include "exporter/exposition/metric_builder.h"
#include "exporter/runtime/logging.h"
#include "exporter/exposition/metrics_text.h"
#include "exporter/http/response_compression.h"
#include "exporter/runtime/probe_response.h"
#include "exporter/exposition/process_collector.h"
#include "exporter/http/scrape_timeout.h"
#include "exporter/runtime/landing_page.h"
#include "exporter/runtime/probe_allow_list.h"
#include "exporter/version.h"
#include "probes/base/printable_text.h"
#include "probes/dns/unbound_resolver.h"
#include "probes/domain/no_verdict.h"

namespace mailtls::exporter {
namespace {

// A reload waits this long for one already running (reloads run one at a time).
constexpr auto kReloadWait = std::chrono::seconds(60);

// Probes change the state (history) all the time; it is written at most this often, from one
// thread, and at shutdown. Writing it after every probe cost O(domains) per probe.
constexpr auto kStateSaveInterval = std::chrono::seconds(5);
// How old the background render of a large /metrics answer may be (see metrics_renderer_).
constexpr auto kMetricsRenderInterval = std::chrono::seconds(5);
// The state saver and the metrics renderer each take at most this share of a core: their work
// grows with the domains (at 100,000 a save dumps ~90 MB of JSON and a render gzips the whole
// answer), so beyond a size their intervals grow instead of their CPU.
constexpr double kBackgroundBusyShare = 0.1;

// The policy_domain values the TLS-RPT receiver gives a label: every configured domain, also
// those another shard probes (a report may arrive at any replica).
std::vector<std::string> domain_names(const Config& c) {
  std::vector<std::string> names;
  for (const auto& d : c.domains) names.push_back(d.name);
  return names;
}

double now_seconds() {
  return std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
}

// Metrics computed at scrape time from live state (scheduler, resolver self-test).
class LiveCollector final : public prometheus::Collectable {
 public:
  explicit LiveCollector(std::function<void(MetricBuilder&)> fill) : fill_(std::move(fill)) {}
  std::vector<prometheus::MetricFamily> Collect() const override {
    MetricBuilder b;
    fill_(b);
    return b.take();
  }

 private:
  std::function<void(MetricBuilder&)> fill_;
};

}  // namespace

Exporter::Exporter(Flags flags, Config config, const WebConfig& web_config,
                   DomainProberFactory prober_factory, Sharding sharding)
    : flags_(std::move(flags)),
      prober_factory_(std::move(prober_factory)),
      sharding_(sharding),
      config_(std::move(config)),
      registry_(std::make_shared<prometheus::Registry>()),
      results_(std::make_shared<ProbeResultsCollector>()),
      web_(WebServerOptions{config_.tlsrpt_receiver.max_body_bytes, 10, 10}, web_config) {
  prometheus::BuildGauge()
      .Name("mailtls_build_info")
      .Help("A metric with a constant '1' value labeled by version and revision of mailtls_exporter.")
      .Register(*registry_)
      .Add({{"version", kVersion}, {"revision", kRevision}})
      .Set(1);
  reload_successful_ = &prometheus::BuildGauge()
                            .Name("mailtls_config_last_reload_successful")
                            .Help("Whether the last configuration reload attempt was successful.")
                            .Register(*registry_)
                            .Add({});
  reload_timestamp_ = &prometheus::BuildGauge()
                           .Name("mailtls_config_last_reload_success_timestamp_seconds")
                           .Help("Timestamp of the last successful configuration reload.")
                           .Register(*registry_)
                           .Add({});
  domains_configured_ = &prometheus::BuildGauge()
                             .Name("mailtls_domains_configured")
                             .Help("Number of mail domains in the configuration (all shards).")
                             .Register(*registry_)
                             .Add({});
  state_save_failures_ = &prometheus::BuildCounter()
                              .Name("mailtls_state_save_failures_total")
                              .Help("Writes of the state file that failed (I/O error or an "
                                    "exception); the state is kept in memory and written later.")
                              .Register(*registry_)
                              .Add({});
  for (const auto& d : config_.domains) configured_names_.insert(d.name);
  collectables_.push_back(std::make_shared<LiveCollector>([this](MetricBuilder& b) {
    b.gauge("mailtls_probes_in_flight", "Domain probes running now.", {},
            scheduler_ ? scheduler_->in_flight() + adhoc_probes_.load() : adhoc_probes_.load());
    b.gauge("mailtls_scheduler_lag_seconds",
            "How far behind schedule the oldest due probe is.", {},
            scheduler_ ? scheduler_->lag_seconds() : 0);
    b.counter("mailtls_web_tls_reload_failures_total",
              "Times the web TLS certificate, key or client CA files changed on disk but did not "
              "load; the ones loaded before are still served.",
              {}, static_cast<double>(web_.tls_reload_failures()));
    std::shared_ptr<DomainProber> prober;
    {
      std::lock_guard lock(config_mu_);
      prober = prober_;
    }
    if (prober) {
      if (auto sessions = prober->smtp_sessions()) {
        b.counter("mailtls_smtp_sessions_total",
                  "SMTP sessions (connect, STARTTLS, handshake) opened to MX addresses; its "
                  "increase over the probe interval is the handshakes per round.",
                  {}, static_cast<double>(sessions->sessions()));
        b.counter("mailtls_smtp_observations_reused_total",
                  "Address probes answered by the STARTTLS observation another domain's probe "
                  "made of the same address, port and SNI name within the interval.",
                  {}, static_cast<double>(sessions->reused()));
        b.counter("mailtls_smtp_politeness_wait_seconds_total",
                  "Time address probes waited for their turn at an MX address (at most "
                  "smtp.max_sessions_per_address open at once, smtp.min_session_gap between "
                  "starts).",
                  {}, sessions->waited_seconds());
      }
      if (auto v = prober->resolver_validating()) {
        b.gauge("mailtls_resolver_dnssec_validating",
                "1 when the resolver's self-test passes (a known-signed name validates secure); "
                "0 means no verdict that depends on DNSSEC can be trusted.",
                {}, *v ? 1 : 0);
      }
    }
  }));
  collectables_.push_back(std::make_shared<ProcessCollector>());
  domains_configured_->Set(static_cast<double>(config_.domains.size()));
  reload_successful_->Set(1);
  reload_timestamp_->Set(now_seconds());
  register_routes();
}

Exporter::~Exporter() { shutdown(); }

std::vector<DomainConfig> Exporter::owned_domains(const Config& c) const {
  std::vector<DomainConfig> out;
  for (const auto& d : c.domains) {
    if (owns(sharding_, d.name)) out.push_back(d);
  }
  return out;
}

void Exporter::register_routes() {
  web_.get("/", [](const HttpRequest&) {
    return HttpResponse{200, "text/html; charset=utf-8", landing_page(), {}};
  });
  web_.get("/metrics", [this](const HttpRequest& req) {
    // A large answer, to a client that takes gzip (Prometheus does), comes from the render
    // metrics_renderer_ made in the background at most kMetricsRenderInterval ago.
    if (accepts_gzip(req.header("Accept-Encoding"))) {
      std::shared_ptr<const std::string> rendered;
      {
        std::lock_guard lock(rendered_mu_);
        rendered = rendered_gzip_;
      }
      if (rendered) return HttpResponse{200, kMetricsContentType, *rendered, {{"Content-Encoding", "gzip"}}};
    }
    HttpResponse r{200, kMetricsContentType, {}, {}};
    r.body_writer = metrics_writer();
    return r;
  });
  web_.get("/probe", [this](const HttpRequest& req) { return handle_probe(req); });
  web_.post("/tlsrpt", [this](const HttpRequest& req) {
    if (!tlsrpt_) {
      return HttpResponse{404, "text/plain; charset=utf-8", "the TLS-RPT receiver is not enabled (tlsrpt_receiver.enabled)\n", {}};
    }
    return tlsrpt_->handle_post(req);
  });
  web_.on_server_error([this](const std::string& path, int status) {
    if (path == "/tlsrpt" && status == 413 && tlsrpt_) tlsrpt_->count_refused_by_server("too_large");
  });
  web_.get("/-/healthy", [](const HttpRequest&) {
    return HttpResponse{200, "text/plain; charset=utf-8", "Healthy.\n", {}};
  });
  web_.get("/-/ready", [this](const HttpRequest&) {
    if (!ready_) return HttpResponse{503, "text/plain; charset=utf-8", "Not ready.\n", {}};
    return HttpResponse{200, "text/plain; charset=utf-8", "Ready.\n", {}};
  });
  web_.post_ignoring_body("/-/reload", [this](const HttpRequest&) {
    std::string error;
    if (!reload(&error)) {
      return HttpResponse{500, "text/plain; charset=utf-8", "failed to reload config: " + error + "\n", {}};
    }
    return HttpResponse{200, "text/plain; charset=utf-8", "Reloaded.\n", {}};
  });
}

bool Exporter::start(std::string* error) {
  std::string warning;
  if (!storage_lock_.acquire(flags_.storage_path, error, &warning)) return false;
  if (!warning.empty()) spdlog::warn("{}", warning);
  warning.clear();
  state_ = std::make_unique<StateStore>(StateStore::open(flags_.storage_path, &warning));
  if (!warning.empty()) spdlog::warn("{}", warning);
  // Probes only change the state in memory; this thread writes it (when changed) every few
  // seconds. A crash (not a shutdown, which saves) loses at most the history of the last
  // kStateSaveInterval: first-seen times and policy changes noticed since the last write.
  state_saver_.start(kStateSaveInterval, [this] { save_state(); }, kBackgroundBusyShare);

  if (flags_.config_watch_interval.count() > 0) {
    config_seen_ = config_fingerprints();
    config_watcher_.start(flags_.config_watch_interval, [this] { reload_if_config_files_changed(); });
  }

  if (config_.tlsrpt_receiver.enabled) {
    const auto& t = config_.tlsrpt_receiver;
    TlsRptReceiverOptions options;
    options.max_body_bytes = t.max_body_bytes;
    options.max_decompressed_bytes = t.max_decompressed_bytes;
    options.accept_unsigned_mail = t.accept_unsigned_mail;
    options.dkim_retry_seconds = std::chrono::duration<double>(t.dkim_retry).count();
    if (!t.maildir.empty() && !t.accept_unsigned_mail) {
      // DKIM keys of mailed reports are looked up with the probes' resolver settings.
      auto keys = dns::UnboundResolver::create(config_.resolver);
      if (keys.resolver) {
        options.key_resolver = std::move(keys.resolver);
      } else {
        spdlog::error("TLS-RPT: no resolver for DKIM keys ({}); mailed reports wait in new/", keys.error);
      }
    }
    options.known_organizations = t.known_organizations;
    options.max_organizations = t.max_organizations;
    tlsrpt_ = std::make_shared<TlsRptReceiver>(options, *state_);
    tlsrpt_->set_monitored_domains(domain_names(config_));
    collectables_.push_back(tlsrpt_);
    if (!t.maildir.empty()) {
      maildir_watcher_.start(t.maildir_scan_interval,
                             [this, dir = t.maildir] { tlsrpt_->import_maildir(dir); });
    }
  }

  if (prober_factory_) {
    std::string err;
    auto prober = prober_factory_(config_, &err);
    if (!prober) {
      if (error) *error = "cannot set up probing: " + err;
      return false;
    }
    std::lock_guard lock(config_mu_);
    prober_ = std::move(prober);
  }

  std::string err;
  auto address = parse_listen_address(flags_.listen_address);
  if (!address || !web_.bind(*address, &err)) {
    if (error) *error = address ? err : address.error();
    return false;
  }
  if (prober_) {
    scheduler_ = std::make_unique<Scheduler>(config_.concurrency,
                                             [this](const DomainConfig& d) { run_probe(d); });
    scheduler_->set_domains(owned_domains(config_));
    scheduler_->start();
  }
  // At 10,000 domains /metrics is 66 MB of text (4 MB gzipped) and a render costs ~0.17 CPU
  // seconds: made here every few seconds, a gzip scrape only copies the last one out.
  // It looks twice a second, so that an answer that has just grown past the threshold gets
  // its first render at once instead of every scrape rendering until the next interval.
  metrics_renderer_.start(std::chrono::milliseconds(500),
                          [this, last = std::chrono::steady_clock::time_point{},
                           took = std::chrono::steady_clock::duration{}]() mutable {
                            bool have_render;
                            {
                              std::lock_guard lock(rendered_mu_);
                              have_render = rendered_gzip_ != nullptr;
                            }
                            // A render is due when the answer crossed the threshold (either
                            // way) or is old: kMetricsRenderInterval, longer for a render that
                            // takes long (kBackgroundBusyShare).
                            const bool large = results_->text_size() >= metrics_cache_min_bytes_;
                            const auto old_after = PeriodicThread::pause_after(
                                kMetricsRenderInterval, took, kBackgroundBusyShare);
                            if (large != have_render ||
                                std::chrono::steady_clock::now() - last >= old_after) {
                              const auto started = std::chrono::steady_clock::now();
                              render_metrics_gzip();
                              last = std::chrono::steady_clock::now();
                              took = last - started;
                            }
                          });
  ready_ = true;
  spdlog::info("listening on {} (port {}), {} domains configured, {} probed by this shard ({}/{})",
               flags_.listen_address, web_.port(), config_.domains.size(),
               owned_domains(config_).size(), sharding_.index, sharding_.count);
  return true;
}

void Exporter::serve() { web_.serve(); }

std::function<void(const BodyPieceWriter&)> Exporter::metrics_writer() const {
  // The exporter's own metrics are rendered now (small); the probe results are written from
  // a snapshot while the answer is sent, never copied into one string (66 MB at 10,000
  // domains).
  auto head = std::make_shared<std::string>();
  append_families(*head, registry_->Collect());
  auto tail = std::make_shared<std::string>();
  append_collected(*tail, collectables_);
  return [head, tail, snap = results_->snapshot()](const BodyPieceWriter& write) {
    if (!write(*head)) return;
    bool more = true;
    ProbeResultsCollector::write_text(*snap, [&](std::string_view piece) { return more = write(piece); });
    if (more) write(*tail);
  };
}

void Exporter::render_metrics_gzip() {
  std::shared_ptr<const std::string> rendered;
  if (results_->text_size() >= metrics_cache_min_bytes_) {
    auto out = std::make_shared<std::string>();
    GzipWriter gz([&out](std::string_view piece) {
      out->append(piece);
      return true;
    });
    metrics_writer()([&gz](std::string_view piece) { return gz.write(piece); });
    if (gz.finish()) rendered = std::move(out);
  }
  std::lock_guard lock(rendered_mu_);
  rendered_gzip_ = std::move(rendered);
}

void Exporter::shutdown() {
  ready_ = false;
  web_.stop();
  metrics_renderer_.stop();
  if (scheduler_) scheduler_->stop();
  maildir_watcher_.stop();
  config_watcher_.stop();
  state_saver_.stop();
  save_state();
}

// A Kubernetes ConfigMap or Secret volume replaces its files by swapping a symlink, and editors
// may keep time stamps: the contents are compared. A change is reloaded once; a broken file is
// not retried until it changes again (the reload metrics say it failed).
std::pair<std::string, std::string> Exporter::config_fingerprints() const {
  return {file_fingerprint(flags_.config_file),
          flags_.web_config_file.empty() ? "" : file_fingerprint(flags_.web_config_file)};
}

void Exporter::reload_if_config_files_changed() {
  auto now = config_fingerprints();
  if (now == config_seen_) return;
  config_seen_ = std::move(now);
  spdlog::info("config file {} or web config file changed on disk: reloading", flags_.config_file);
  reload(nullptr);
}

void Exporter::save_state() {
  if (!state_) return;
  // Runs on state_saver_: an exception escaping it would std::terminate the exporter, at
  // every start again if the state itself caused it. Logged and counted; the next round
  // tries again.
  try {
    std::string err;
    if (state_->save(&err)) return;
    spdlog::error("saving state failed: {}", err);
  } catch (const std::exception& e) {
    spdlog::error("saving state failed: {}", e.what());
  } catch (...) {
    spdlog::error("saving state failed: an unknown exception");
  }
  state_save_failures_->Increment();
}

bool Exporter::reload(std::string* error) {
  // One reload at a time: POST /-/reload and SIGHUP may come together, and two at once raced
  // on config_ and on building resolvers (issue 17, finding 3). A reload asked for while one
  // runs waits for it, then reads the file again.
  std::unique_lock reload_lock(reload_mu_, std::defer_lock);
  if (!reload_lock.try_lock_for(kReloadWait)) {
    const std::string why = "another reload is still running";
    spdlog::error("config reload not done: {}", why);
    if (error) *error = why;
    return false;
  }
  auto fail = [&](const std::string& why) {
    reload_successful_->Set(0);
    spdlog::error("config reload failed, keeping the running config: {}", why);
    if (error) *error = why;
    return false;
  };
  auto loaded = load_config_file(flags_.config_file);
  if (!loaded) return fail(loaded.error());
  // The web config too (a revoked password, a renewed certificate); checked before anything
  // changes, so a broken one keeps both running.
  std::optional<WebConfig> web_config;
  if (!flags_.web_config_file.empty()) {
    auto wc = load_web_config_file(flags_.web_config_file);
    if (!wc.config) return fail("web config: " + wc.error);
    web_config = std::move(wc.config);
  }
  std::shared_ptr<DomainProber> prober;
  if (prober_factory_) {
    std::string err;
    prober = prober_factory_(*loaded, &err);
    if (!prober) return fail("cannot set up probing: " + err);
  }
  if (web_config) {
    std::string err;
    if (!web_.set_web_config(*web_config, &err)) return fail("web config: " + err);
  }
  Config config = std::move(*loaded);
  const auto owned = owned_domains(config);
  std::set<std::string> names;
  for (const auto& d : owned) names.insert(d.name);
  // The replaced prober is let go after the lock and after the metrics say the reload worked:
  // its destructor waits for its first DNSSEC self-test if that still runs (up to 5 s), and
  // /metrics and probes take config_mu_.
  std::shared_ptr<DomainProber> replaced;
  {
    std::lock_guard lock(config_mu_);
    config_ = config;
    configured_names_.clear();
    for (const auto& d : config_.domains) configured_names_.insert(d.name);
    if (prober) {
      replaced = std::move(prober_);
      prober_ = prober;
    }
  }
  domains_configured_->Set(static_cast<double>(config.domains.size()));
  results_->retain_only(names);
  // The lean profile has no histogram: forget the counts, so that one back in the full
  // profile starts afresh (a counter reset) instead of resuming with the lean time missing.
  handshakes_.retain_only(config.metrics.profile == MetricsProfile::kFull ? names : std::set<std::string>{});
  if (scheduler_) scheduler_->set_domains(owned);
  if (tlsrpt_) tlsrpt_->set_monitored_domains(domain_names(config));
  reload_successful_->Set(1);
  reload_timestamp_->Set(now_seconds());
  spdlog::info("config reloaded from {}: {} domains, {} probed by this shard", flags_.config_file,
               config.domains.size(), owned.size());
  reload_lock.unlock();  // the next reload need not wait for this destructor
  replaced.reset();
  return true;
}

void Exporter::run_probe(const DomainConfig& domain) {
  std::shared_ptr<DomainProber> prober;
  {
    std::lock_guard lock(config_mu_);
    prober = prober_;
  }
  if (!prober) return;
  // Observe, judge with the history, and remember (complete probes only): judged_probe.h.
  const auto report = probe_and_judge(*prober, domain, state_.get(), HistoryUse::kCommit);
  if (!report.probe_success) {
    log_event(spdlog::level::warn, "probe did not finish; keeping the last complete results",
              {{"domain", report.domain}, {"err", report.probe_error}});
  }
  if (spdlog::should_log(spdlog::level::debug)) {
    log_event(spdlog::level::debug, "probed",
              {{"domain", report.domain}, {"success", report.probe_success ? "true" : "false"},
               {"dane_status", std::string(domain::to_string(report.dane_status))},
               {"mtasts_status", std::string(domain::to_string(report.mtasts.status))},
               {"duration_seconds", std::to_string(report.duration_seconds)}});
  }
  // A domain removed by a reload while its probe ran is not brought back; the metrics are
  // those of the profile in force now (a reload switches each domain at its next probe).
  MetricsProfile profile;
  {
    std::lock_guard lock(config_mu_);
    if (!configured_names_.count(domain.name)) return;
    profile = config_.metrics.profile;
  }
  auto families = report.probe_success ? domain_metrics(report, profile) : incomplete_probe_metrics(report);
  if (profile == MetricsProfile::kFull) {
    if (auto h = handshakes_.observe(report)) families.push_back(std::move(*h));
  }
  if (report.probe_success) {
    results_->set(domain.name, families);
  } else {
    results_->update(domain.name, families);
  }
}

HttpResponse Exporter::handle_probe(const HttpRequest& req) {
  const std::string target = req.param("target");
  if (target.empty()) {
    return {400, "text/plain; charset=utf-8", "target parameter is missing\n", {}};
  }
  auto name = normalize_domain_name(target);
  if (!name) return {400, "text/plain; charset=utf-8", printable_text(name.error()) + "\n", {}};
  std::optional<DomainConfig> target_config;
  MetricsProfile profile;
  {
    std::lock_guard lock(config_mu_);
    target_config = probe_target(config_, *name);
    profile = config_.metrics.profile;
  }
  if (!target_config) {
    return {403, "text/plain; charset=utf-8",
            "\"" + *name + "\" is neither configured nor in probe_allow_list\n", {}};
  }
  DomainConfig domain = std::move(*target_config);
  std::shared_ptr<DomainProber> prober;
  {
    std::lock_guard lock(config_mu_);
    prober = prober_;
  }
  if (!prober) return {503, "text/plain; charset=utf-8", "probing is not set up\n", {}};
  const AdhocProbeSlot slot(adhoc_probes_);
  if (!slot.held()) return {429, "text/plain; charset=utf-8", "too many /probe requests at once\n", {}};
  // Prometheus tells how long it will wait; finish a little before that.
  if (auto budget = probe_budget_for_scrape_timeout(req.header("X-Prometheus-Scrape-Timeout-Seconds"));
      budget && *budget < domain.timeout) {
    domain.timeout = *budget;
  }
  // The history the scheduled probes keep judges this probe too (F1, F6, T12, P7), without
  // changing it: /probe and /metrics give the same verdict for the same observations.
  const auto report = probe_and_judge(*prober, domain, state_.get(), HistoryUse::kReadOnly);
  return probe_response(report, req.param("debug") == "true", profile);
}

}  // namespace mailtls::exporter
