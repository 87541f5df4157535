// UnboundResolver::create from many threads at once. libunbound's config parser and log setup
// are process-wide and unlocked; two concurrent reloads of the exporter crashed it ("fatal flex
// scanner internal error", SIGSEGV) or left every later context failing to configure
// (issue 17, finding 3). Creation is serialised inside UnboundResolver; this must never crash
// or fail.
#include <gtest/gtest.h>

#include <atomic>
#include <string>
#include <thread>
#include <vector>

#include "probes/dns/unbound_resolver.h"

namespace mailtls::dns {
namespace {

// A config with stub zones, so every creation runs libunbound's config-file parser. Nothing
// listens on these addresses; no lookup is made.
ResolverConfig parsed_config(int n) {
  ResolverConfig c;
  c.use_resolv_conf = false;
  c.root_trust_anchor_file = "";
  c.forwarders = {"127.0.0.1@9"};
  for (int z = 0; z < 20; ++z) {
    c.stub_zones.push_back({"zone" + std::to_string(n) + "-" + std::to_string(z) + ".test",
                            {"127.0.0.1@9", "::1@9"}});
  }
  return c;
}

TEST(UnboundResolverConcurrency, ManyThreadsCreateAndDestroyContextsAtOnce) {
  constexpr int kThreads = 8;
  constexpr int kRounds = 15;
  std::atomic<int> created{0};
  std::vector<std::string> errors(kThreads);
  std::atomic<bool> go{false};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      while (!go.load()) std::this_thread::yield();
      for (int i = 0; i < kRounds; ++i) {
        auto made = UnboundResolver::create(parsed_config(t * kRounds + i));
        if (!made.resolver) {
          errors[t] = made.error;
          return;
        }
        ++created;
      }  // each resolver is destroyed while other threads create theirs
    });
  }
  go = true;
  for (auto& th : threads) th.join();
  for (int t = 0; t < kThreads; ++t) EXPECT_EQ(errors[t], "") << "thread " << t;
  EXPECT_EQ(created.load(), kThreads * kRounds);

  // And the parser is still usable afterwards.
  auto after = UnboundResolver::create(parsed_config(-1));
  EXPECT_TRUE(after.resolver) << after.error;
}

// A stub zone name that could break the generated unbound config is refused before libunbound
// sees it: a parse that stops at an error leaves libunbound's global lexer holding the rest of
// the text, which the next context would read first.
TEST(UnboundResolverConcurrency, ZoneNamesThatCouldBreakTheParserAreRefusedAndDoNotPoisonIt) {
  for (const char* zone : {"a\"b.test", "a#b.test", "a b.test", "a\\b.test", "a\nserver:", "a{b}.test",
                           "a;b.test", "a\x01.test"}) {
    ResolverConfig c = parsed_config(0);
    c.stub_zones.push_back({zone, {"127.0.0.1@9"}});
    const auto made = UnboundResolver::create(c);
    EXPECT_FALSE(made.resolver) << zone;
    EXPECT_NE(made.error.find("bad stub zone name"), std::string::npos) << made.error;
  }
  for (const char* zone : {".", "test", "Example.Test", "_tcp.x-y.test."}) {
    ResolverConfig c = parsed_config(0);
    c.stub_zones.push_back({zone, {"127.0.0.1@9"}});
    const auto made = UnboundResolver::create(c);
    EXPECT_TRUE(made.resolver) << zone << ": " << made.error;
  }
}

}  // namespace
}  // namespace mailtls::dns
