// mailtls_exporter: flags, logging, config, then serve until SIGTERM/SIGINT; SIGHUP reloads.

#include <malloc.h>
#include <signal.h>
#include <sys/resource.h>
#include <spdlog/spdlog.h>

#include <cstdio>
#include <cstdlib>
#include <iostream>
#include <thread>
#include <unistd.h>

#include "exporter/cli/check_config.h"
#include "exporter/config/config.h"
#include "exporter/runtime/judged_probe.h"
#include "exporter/runtime/exporter.h"
#include "exporter/cli/flags.h"
#include "exporter/runtime/logging.h"
#include "exporter/cli/check_report.h"
#include "exporter/runtime/real_domain_prober.h"
#include "exporter/runtime/sharding.h"
#include "exporter/runtime/state_store.h"
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

// `check <domain>...`: probe once with the same code as the exporter and print a report.
int run_check(const mailtls::exporter::Flags& flags, const mailtls::exporter::Config& config) {
  using namespace mailtls::exporter;
  std::vector<std::string> names;
  bool json = false;
  const char* usage = "usage: mailtls_exporter [--config.file=...] check [--output=text|json] [<domain>...]\n";
  for (size_t i = 1; i < flags.args.size(); ++i) {
    const std::string& a = flags.args[i];
    if (a == "--output" || a.rfind("--output=", 0) == 0) {
      std::string value;
      if (a == "--output") {
        if (i + 1 < flags.args.size()) value = flags.args[++i];
      } else {
        value = a.substr(9);
      }
      if (value != "text" && value != "json") {
        std::fprintf(stderr, "mailtls_exporter: check: --output must be text or json, not \"%s\"\n%s",
                     value.c_str(), usage);
        return 2;
      }
      json = value == "json";
      continue;
    }
    names.push_back(a);
  }
  // No domain named: every configured one, as the server would probe them.
  if (names.empty()) {
    for (const auto& d : config.domains) names.push_back(d.name);
  }
  if (names.empty()) {
    std::fprintf(stderr, "%s(with no domain named, every domain of the config file; this one has none)\n", usage);
    return 2;
  }
  std::string error;
  auto prober = make_real_domain_prober(config, &error);
  if (!prober) {
    std::fprintf(stderr, "mailtls_exporter: cannot probe: %s\n", error.c_str());
    return 2;
  }
  // The history the server keeps under --storage.path (F1, F6), read-only: the server owns the
  // file. No file: no history, as for a server's first probe.
  std::string state_warning;
  auto history = StateStore::read_only(flags.storage_path, &state_warning);
  if (!state_warning.empty()) std::fprintf(stderr, "mailtls_exporter: %s\n", state_warning.c_str());
  std::vector<mailtls::domain::DomainReport> reports;
  for (const auto& n : names) {
    auto name = normalize_domain_name(n);
    if (!name) {
      std::fprintf(stderr, "mailtls_exporter: %s\n", name.error().c_str());
      return 2;
    }
    DomainConfig d;
    d.name = *name;
    d.timeout = config.timeout;
    d.interval = config.interval;
    for (const auto& c : config.domains) {
      if (c.name == *name) d = c;  // its own checks and timeout
    }
    reports.push_back(probe_and_judge(*prober, d, &history, HistoryUse::kReadOnly));
  }
  const auto resolver = prober->resolver_self_test();
  if (json) {
    std::cout << format_check_json(reports, resolver);
  } else {
    const bool color = isatty(STDOUT_FILENO) && std::getenv("NO_COLOR") == nullptr;
    std::cout << format_check_texts(reports, resolver, color, std::chrono::system_clock::now());
  }
  return check_exit_code(reports);
}

}  // namespace

int main(int argc, char** argv) {
  // glibc gives each thread that allocates concurrently an arena of its own, up to 8 per core;
  // with 32 probe workers and the HTTP pool that is memory held in many half-empty arenas
  // (docs/robustness.md O2). Four are enough for this load; MALLOC_ARENA_MAX still decides.
  if (std::getenv("MALLOC_ARENA_MAX") == nullptr) mallopt(M_ARENA_MAX, 4);
  std::vector<std::string> args(argv, argv + argc);
  auto parsed = mailtls::exporter::parse_flags(args);
  if (!parsed) {
    std::fprintf(stderr, "mailtls_exporter: %s\n", parsed.error().c_str());
    return 1;
  }
  auto flags = *parsed;
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

  const bool check = !flags.config_check && !flags.args.empty() && flags.args.front() == "check";
  if (check && flags.args.size() > 1 && (flags.args[1] == "--help" || flags.args[1] == "-h")) {
    std::cout << mailtls::exporter::flags_usage("mailtls_exporter");
    return 0;
  }
  // `check` also runs without a config file, on the system resolver (check_config.h).
  std::string note;
  auto loaded = check ? mailtls::exporter::load_config_for_check(flags, &note)
                      : mailtls::exporter::load_config_file(flags.config_file);
  if (!note.empty()) std::fprintf(stderr, "%s\n", note.c_str());
  if (!loaded) {
    std::fprintf(stderr, "mailtls_exporter: invalid config: %s\n", loaded.error().c_str());
    return 1;
  }
  // Before --config.check returns: a systemd ExecStartPre check must fail on what start would.
  mailtls::exporter::WebConfig web_config;
  if (!flags.web_config_file.empty()) {
    auto wc = mailtls::exporter::load_web_config_file(flags.web_config_file);
    if (!wc.config) {
      std::fprintf(stderr, "mailtls_exporter: invalid web config: %s\n", wc.error.c_str());
      return 1;
    }
    web_config = *wc.config;
  }
  if (flags.config_check) {
    std::printf("%s: valid, %zu domains\n", flags.config_file.c_str(), loaded->domains.size());
    if (!flags.web_config_file.empty()) std::printf("%s: valid\n", flags.web_config_file.c_str());
    return 0;
  }
  if (!flags.args.empty()) {
    if (flags.args.front() == "check") return run_check(flags, *loaded);
    std::fprintf(stderr, "mailtls_exporter: unknown command \"%s\" (see --help)\n",
                 flags.args.front().c_str());
    return 1;
  }
  mailtls::exporter::Sharding sharding;
  sharding.count = flags.shard_count;
  {
    char host[256] = {};
    gethostname(host, sizeof host - 1);
    std::string err;
    auto index = mailtls::exporter::parse_shard_index(flags.shard_index, host, &err);
    if (!index || *index >= sharding.count) {
      std::fprintf(stderr, "mailtls_exporter: %s\n",
                   index ? "--shard.index must be below --shard.count" : err.c_str());
      return 1;
    }
    sharding.index = *index;
  }

  // Every HTTP connection is a file descriptor: the soft limit (often 1024) up to the hard one.
  if (rlimit nofile{}; getrlimit(RLIMIT_NOFILE, &nofile) == 0 && nofile.rlim_cur < nofile.rlim_max) {
    nofile.rlim_cur = nofile.rlim_max;
    setrlimit(RLIMIT_NOFILE, &nofile);
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
  // The server listens at once; the resolver's first self-test runs beside it (O3).
  // One session counter for every prober a reload builds: the counts go on across reloads.
  auto prober_factory = [sessions = std::make_shared<mailtls::smtp::SmtpSessionCounter>()](
                            const mailtls::exporter::Config& c, std::string* e) {
    return mailtls::exporter::make_real_domain_prober(
        c, e, mailtls::exporter::FirstSelfTest::kInBackground, sessions);
  };
  Exporter exporter(flags, std::move(*loaded), web_config, prober_factory, sharding);
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
