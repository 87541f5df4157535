// Lookups per second through UnboundResolver against the local test world (Knot on
// 127.0.0.1@5300), cold cache (a fresh resolver, every question asked once) and warm cache
// (the same resolver after one pass), at several concurrencies. Prints medians of several runs.
//
// Usage: dns_bench [world_dir] (default $MAILTLS_WORLD_DIR or <repo>/.world; the world must run)

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <map>
#include <string>
#include <thread>
#include <vector>

#include "probes/dns/unbound_resolver.h"

namespace {

using mailtls::Deadline;
using mailtls::dns::Answer;
using mailtls::dns::ResolverConfig;
using mailtls::dns::RrType;
using mailtls::dns::UnboundResolver;

struct Question {
  std::string name;
  RrType type;
};

std::map<std::string, std::string> read_env_file(const std::string& path) {
  std::map<std::string, std::string> out;
  std::ifstream in(path);
  std::string line;
  while (std::getline(in, line)) {
    const auto eq = line.find('=');
    if (eq != std::string::npos) out[line.substr(0, eq)] = line.substr(eq + 1);
  }
  return out;
}

// The questions a probe of each world domain asks: MX, A/AAAA of the MX host, TLSA, TXT.
std::vector<Question> world_questions() {
  const char* domains[] = {"signed.test", "bogus.test", "expiring.test", "insecure.test",
                           "nomx.test", "dane-good.test", "dane-stalekey.test",
                           "dane-leftovers.test", "dane-ta.test", "dane-rollover.test",
                           "dane-degraded.test", "dane-expired.test", "dane-nostarttls.test",
                           "dane-v6.test", "sts-enforce.test", "sts-testing.test"};
  std::vector<Question> qs;
  for (const std::string d : domains) {
    qs.push_back({d, RrType::kMx});
    qs.push_back({"mx." + d, RrType::kA});
    qs.push_back({"mx." + d, RrType::kAaaa});
    qs.push_back({"_25._tcp.mx." + d, RrType::kTlsa});
    qs.push_back({"_smtp._tls." + d, RrType::kTxt});
    qs.push_back({"_mta-sts." + d, RrType::kTxt});
  }
  return qs;
}

struct RunFigures {
  double lookups_per_second = 0;
  int errors = 0;  // timeouts or local errors (bogus answers from bogus.test are expected)
};

RunFigures run(UnboundResolver& r, const std::vector<Question>& qs, int total, int concurrency) {
  std::atomic<int> next{0};
  std::atomic<int> errors{0};
  const auto start = std::chrono::steady_clock::now();
  std::vector<std::thread> threads;
  for (int t = 0; t < concurrency; ++t) {
    threads.emplace_back([&] {
      for (int i = next++; i < total; i = next++) {
        const Question& q = qs[static_cast<std::size_t>(i) % qs.size()];
        const Answer a = r.lookup(q.name, q.type, Deadline::after(std::chrono::seconds(10)));
        if (a.reason == "timeout" || a.rcode < 0) ++errors;
      }
    });
  }
  for (auto& t : threads) t.join();
  const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return {total / secs, errors.load()};
}

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v.size() % 2 == 1 ? v[v.size() / 2] : (v[v.size() / 2 - 1] + v[v.size() / 2]) / 2;
}

}  // namespace

int main(int argc, char** argv) {
  const char* env_dir = std::getenv("MAILTLS_WORLD_DIR");
  const std::string dir = argc > 1 ? argv[1]
                          : env_dir != nullptr ? env_dir
                                               : MAILTLS_SOURCE_DIR "/.world";
  auto world = read_env_file(dir + "/world.env");
  if (world["DNS_PORT"].empty()) {
    std::fprintf(stderr, "no %s/world.env: start the world with tests/world/world.sh start\n",
                 dir.c_str());
    return 2;
  }
  ResolverConfig config;
  config.use_resolv_conf = false;
  config.root_trust_anchor_file = "";
  config.stub_zones.push_back({"test", {world["DNS_ADDR"] + "@" + world["DNS_PORT"]}});
  config.trust_anchor_files = {world["ANCHORS_FILE"]};

  const std::vector<Question> qs = world_questions();
  constexpr int kRuns = 5;
  constexpr int kWarmLookups = 20000;
  std::printf("questions in the set: %zu; runs per figure: %d (median)\n", qs.size(), kRuns);
  std::printf("%-6s %-12s %14s %8s\n", "cache", "concurrency", "lookups/s", "errors");
  for (int concurrency : {1, 16, 128}) {
    std::vector<double> cold;
    std::vector<double> warm;
    int cold_errors = 0;
    int warm_errors = 0;
    for (int run_no = 0; run_no < kRuns; ++run_no) {
      auto made = UnboundResolver::create(config);
      if (!made.resolver) {
        std::fprintf(stderr, "resolver: %s\n", made.error.c_str());
        return 2;
      }
      // Cold: every question once on an empty cache (DNSKEY/DS chasing included).
      const RunFigures c = run(*made.resolver, qs, static_cast<int>(qs.size()), concurrency);
      cold.push_back(c.lookups_per_second);
      cold_errors += c.errors;
      // Warm: the same questions again and again, now answered from the cache.
      const RunFigures w = run(*made.resolver, qs, kWarmLookups, concurrency);
      warm.push_back(w.lookups_per_second);
      warm_errors += w.errors;
    }
    std::printf("%-6s %-12d %14.0f %8d\n", "cold", concurrency, median(cold), cold_errors);
    std::printf("%-6s %-12d %14.0f %8d\n", "warm", concurrency, median(warm), warm_errors);
  }
  return 0;
}
