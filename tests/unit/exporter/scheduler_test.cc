#include "exporter/scheduler.h"

#include <gtest/gtest.h>

#include <atomic>
#include <map>
#include <mutex>
#include <thread>

namespace mailtls::exporter {
namespace {

DomainConfig domain(const std::string& name, std::chrono::milliseconds interval) {
  DomainConfig d;
  d.name = name;
  d.interval = interval;
  d.timeout = interval;
  return d;
}

bool wait_for(const std::function<bool()>& cond) {
  for (int i = 0; i < 1000; ++i) {
    if (cond()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return false;
}

TEST(Scheduler, ProbesEveryDomainRepeatedly) {
  std::mutex mu;
  std::map<std::string, int> runs;
  Scheduler s(2, [&](const DomainConfig& d) {
    std::lock_guard lock(mu);
    ++runs[d.name];
  }, std::chrono::milliseconds(50));
  s.set_domains({domain("a.example", std::chrono::milliseconds(100)),
                 domain("b.example", std::chrono::milliseconds(100))});
  s.start();
  ASSERT_TRUE(wait_for([&] {
    std::lock_guard lock(mu);
    return runs["a.example"] >= 3 && runs["b.example"] >= 3;
  }));
  s.stop();
}

TEST(Scheduler, ConcurrencyLimitHolds) {
  std::atomic<int> running{0}, peak{0}, done{0};
  Scheduler s(3, [&](const DomainConfig&) {
    int now = ++running;
    int p = peak;
    while (now > p && !peak.compare_exchange_weak(p, now)) {}
    std::this_thread::sleep_for(std::chrono::milliseconds(30));
    --running;
    ++done;
  }, std::chrono::milliseconds(1));
  std::vector<DomainConfig> ds;
  for (int i = 0; i < 20; ++i) ds.push_back(domain("d" + std::to_string(i) + ".example", std::chrono::hours(1)));
  s.set_domains(ds);
  s.start();
  ASSERT_TRUE(wait_for([&] { return done >= 20; }));
  s.stop();
  EXPECT_EQ(peak, 3);
}

TEST(Scheduler, RemovedDomainsStopBeingProbed) {
  std::mutex mu;
  std::map<std::string, int> runs;
  Scheduler s(1, [&](const DomainConfig& d) {
    std::lock_guard lock(mu);
    ++runs[d.name];
  }, std::chrono::milliseconds(1));
  s.set_domains({domain("gone.example", std::chrono::milliseconds(20)),
                 domain("kept.example", std::chrono::milliseconds(20))});
  s.start();
  ASSERT_TRUE(wait_for([&] {
    std::lock_guard lock(mu);
    return runs["gone.example"] >= 1;
  }));
  s.set_domains({domain("kept.example", std::chrono::milliseconds(20))});
  std::this_thread::sleep_for(std::chrono::milliseconds(50));  // let a running probe finish
  int gone_after_removal;
  {
    std::lock_guard lock(mu);
    gone_after_removal = runs["gone.example"];
  }
  const int kept_before = [&] { std::lock_guard lock(mu); return runs["kept.example"]; }();
  ASSERT_TRUE(wait_for([&] {
    std::lock_guard lock(mu);
    return runs["kept.example"] >= kept_before + 3;
  }));
  std::lock_guard lock(mu);
  EXPECT_EQ(runs["gone.example"], gone_after_removal);
  s.stop();
}

TEST(Scheduler, LagShowsWhenWorkersAreSaturated) {
  std::atomic<bool> release{false};
  Scheduler s(1, [&](const DomainConfig&) {
    while (!release) std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }, std::chrono::milliseconds(1));
  s.set_domains({domain("slow.example", std::chrono::hours(1)),
                 domain("waiting.example", std::chrono::hours(1))});
  s.start();
  ASSERT_TRUE(wait_for([&] { return s.in_flight() == 1 && s.lag_seconds() > 0.1; }));
  release = true;
  ASSERT_TRUE(wait_for([&] { return s.completed() == 2; }));
  EXPECT_EQ(s.lag_seconds(), 0);
  s.stop();
}

}  // namespace
}  // namespace mailtls::exporter
