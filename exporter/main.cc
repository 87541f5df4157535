// mailtls_exporter: flags, logging, config, then serve until SIGTERM/SIGINT; SIGHUP reloads.

#include <signal.h>
#include <spdlog/spdlog.h>

#include <cstdio>
#include <iostream>
#include <thread>

#include "exporter/config.h"
#include "exporter/exporter.h"
#include "exporter/flags.h"
#include "exporter/logging.h"
#include "exporter/version.h"

namespace {

using mailtls::exporter::Exporter;

// Signals are taken synchronously by one thread, so handlers run ordinary code.
std::jthread start_signal_thread(Exporter& exporter, sigset_t set) {
  return std::jthread([&exporter, set](std::stop_token) {
    for (;;) {
      int sig = 0;
      if (sigwait(&set, &sig) != 0) continue;
      if (sig == SIGHUP) {
        spdlog::info("SIGHUP: reloading config");
        exporter.reload(nullptr);
        continue;
      }
      spdlog::info("received {}, shutting down", sig == SIGTERM ? "SIGTERM" : "SIGINT");
      exporter.shutdown();
      return;
    }
  });
}

}  // namespace

int main(int argc, char** argv) {
  std::vector<std::string> args(argv, argv + argc);
  auto parsed = mailtls::exporter::parse_flags(args);
  if (!parsed.flags) {
    std::fprintf(stderr, "mailtls_exporter: %s\n", parsed.error.c_str());
    return 1;
  }
  auto flags = *parsed.flags;
  if (flags.show_help) {
    std::cout << mailtls::exporter::flags_usage("mailtls_exporter");
    return 0;
  }
  if (flags.show_version) {
    std::cout << "mailtls_exporter, version " << mailtls::kVersion << " (revision "
              << mailtls::kRevision << ")\n";
    return 0;
  }
  mailtls::exporter::setup_logging(flags.log_level, flags.log_format);

  auto loaded = mailtls::exporter::load_config_file(flags.config_file);
  if (!loaded.config) {
    std::fprintf(stderr, "mailtls_exporter: invalid config: %s\n", loaded.error.c_str());
    return 1;
  }
  if (flags.config_check) {
    std::printf("%s: valid, %zu domains\n", flags.config_file.c_str(), loaded.config->domains.size());
    return 0;
  }
  mailtls::exporter::WebConfig web_config;
  if (!flags.web_config_file.empty()) {
    auto wc = mailtls::exporter::load_web_config_file(flags.web_config_file);
    if (!wc.config) {
      std::fprintf(stderr, "mailtls_exporter: invalid web config: %s\n", wc.error.c_str());
      return 1;
    }
    web_config = *wc.config;
  }
  if (!flags.args.empty()) {
    std::fprintf(stderr, "mailtls_exporter: unknown command \"%s\" (see --help)\n",
                 flags.args.front().c_str());
    return 1;
  }

  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGTERM);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGHUP);
  pthread_sigmask(SIG_BLOCK, &set, nullptr);  // inherited by every thread started below
  signal(SIGPIPE, SIG_IGN);

  spdlog::info("starting mailtls_exporter version {} revision {}", mailtls::kVersion,
               mailtls::kRevision);
  Exporter exporter(flags, std::move(*loaded.config), web_config);
  std::string error;
  if (!exporter.start(&error)) {
    spdlog::error("{}", error);
    std::fprintf(stderr, "mailtls_exporter: %s\n", error.c_str());
    return 1;
  }
  auto signals = start_signal_thread(exporter, set);
  exporter.serve();
  // Wake the signal thread if serve() ended for another reason.
  if (signals.joinable()) pthread_kill(signals.native_handle(), SIGTERM);
  spdlog::info("stopped");
  return 0;
}
