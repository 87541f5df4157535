#include "exporter/exporter.h"

#include <prometheus/gauge.h>
#include <spdlog/spdlog.h>

#include <chrono>

#include "exporter/metrics_text.h"
#include "exporter/process_collector.h"
#include "exporter/version.h"

namespace mailtls::exporter {
namespace {

double now_seconds() {
  return std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
}

constexpr const char* kLandingPage = R"(<!DOCTYPE html>
<html lang="en">
<head><meta charset="utf-8"><title>mailtls_exporter</title>
<style>body{font-family:sans-serif;max-width:48em;margin:2em auto;line-height:1.4}
code{background:#f4f4f4;padding:0 .2em}</style></head>
<body>
<h1>mailtls_exporter</h1>
<p>Watches the transport security of mail domains: DANE (TLSA and DNSSEC), MTA-STS,
TLS-RPT and STARTTLS.</p>
<ul>
<li><a href="metrics">Metrics</a></li>
<li><a href="-/healthy">Health</a> and <a href="-/ready">readiness</a></li>
</ul>
<p>Version {VERSION} (revision {REVISION}).</p>
</body>
</html>
)";

std::string landing_page() {
  std::string page = kLandingPage;
  auto replace = [&](const std::string& key, const std::string& value) {
    if (auto pos = page.find(key); pos != std::string::npos) page.replace(pos, key.size(), value);
  };
  replace("{VERSION}", kVersion);
  replace("{REVISION}", kRevision);
  return page;
}

}  // namespace

Exporter::Exporter(Flags flags, Config config, const WebConfig& web_config)
    : flags_(std::move(flags)),
      registry_(std::make_shared<prometheus::Registry>()),
      web_(WebServerOptions{}, web_config) {
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
                             .Help("Number of mail domains in the configuration.")
                             .Register(*registry_)
                             .Add({});
  collectables_.push_back(registry_);
  collectables_.push_back(std::make_shared<ProcessCollector>());
  apply_config(std::move(config));
  reload_successful_->Set(1);
  reload_timestamp_->Set(now_seconds());
  register_routes();
}

Exporter::~Exporter() { shutdown(); }

void Exporter::apply_config(Config config) {
  std::lock_guard lock(config_mu_);
  config_ = std::move(config);
  domains_configured_->Set(static_cast<double>(config_.domains.size()));
}

void Exporter::register_routes() {
  web_.get("/", [](const HttpRequest&) {
    return HttpResponse{200, "text/html; charset=utf-8", landing_page(), {}};
  });
  web_.get("/metrics", [this](const HttpRequest&) {
    return HttpResponse{200, kMetricsContentType, metrics_text(), {}};
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
  std::string err;
  auto address = parse_listen_address(flags_.listen_address, &err);
  if (!address || !web_.bind(*address, &err)) {
    if (error) *error = err;
    return false;
  }
  ready_ = true;
  spdlog::info("listening on {} (port {}), {} domains configured", flags_.listen_address,
               web_.port(), config_.domains.size());
  return true;
}

void Exporter::serve() { web_.serve(); }

void Exporter::shutdown() {
  ready_ = false;
  web_.stop();
}

bool Exporter::reload(std::string* error) {
  auto loaded = load_config_file(flags_.config_file);
  if (!loaded.config) {
    reload_successful_->Set(0);
    spdlog::error("config reload failed, keeping the running config: {}", loaded.error);
    if (error) *error = loaded.error;
    return false;
  }
  const size_t n = loaded.config->domains.size();
  apply_config(std::move(*loaded.config));
  reload_successful_->Set(1);
  reload_timestamp_->Set(now_seconds());
  spdlog::info("config reloaded from {}: {} domains", flags_.config_file, n);
  return true;
}

std::string Exporter::metrics_text() const { return render_metrics(collectables_); }

}  // namespace mailtls::exporter
