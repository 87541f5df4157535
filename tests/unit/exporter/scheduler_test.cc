#include "exporter/runtime/scheduler.h"

#include <gtest/gtest.h>

#include <atomic>
#include <condition_variable>
#include <map>
#include <mutex>
#include <set>
#include <thread>
#include <vector>

#include "tests/fakes/fake_steady_clock.h"

// Time passes only through FakeSteadyClock::advance(). The tests wait (in real time, with a
// generous bound) only for the scheduler's threads to catch up with the fake time, and never
// assert how long anything took.

namespace mailtls::exporter {
namespace {

using namespace std::chrono_literals;
using mailtls::testing::FakeSteadyClock;
using Time = SchedulerClock::TimePoint;
using Millis = std::chrono::milliseconds;

DomainConfig domain(const std::string& name, Millis interval) {
  DomainConfig d;
  d.name = name;
  d.interval = interval;
  d.timeout = interval;
  return d;
}

std::vector<DomainConfig> domains(int n, Millis interval) {
  std::vector<DomainConfig> ds;
  for (int i = 0; i < n; ++i) ds.push_back(domain("d" + std::to_string(i) + ".example", interval));
  return ds;
}

// Polls until `cond` holds; false after about 20 s of real time.
bool eventually(const std::function<bool()>& cond) {
  for (int i = 0; i < 20000; ++i) {
    if (cond()) return true;
    std::this_thread::sleep_for(1ms);
  }
  return cond();
}

// Every probe with the fake time it started at.
class ProbeLog {
 public:
  explicit ProbeLog(const FakeSteadyClock& clock) : clock_(clock) {}
  void record(const DomainConfig& d) {
    const Time now = clock_.now();
    std::lock_guard lock(mu_);
    times_[d.name].push_back(now);
  }
  std::vector<Time> times(const std::string& name) const {
    std::lock_guard lock(mu_);
    auto it = times_.find(name);
    return it == times_.end() ? std::vector<Time>{} : it->second;
  }
  size_t count(const std::string& name) const { return times(name).size(); }

 private:
  const FakeSteadyClock& clock_;
  mutable std::mutex mu_;
  std::map<std::string, std::vector<Time>> times_;
};

// A probe body that blocks until the test opens the gate.
class Gate {
 public:
  void open() {
    std::lock_guard lock(mu_);
    open_ = true;
    cv_.notify_all();
  }
  void wait() {
    std::unique_lock lock(mu_);
    cv_.wait(lock, [this] { return open_; });
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  bool open_ = false;
};

// Declared after the scheduler, so a failing test does not hang joining a blocked worker.
struct OpenOnExit {
  Gate& gate;
  ~OpenOnExit() { gate.open(); }
};

// True once the scheduler has nothing left to do at the current fake time: the dispatcher sleeps
// with nothing to wake up for, no probe waits for a worker and none runs. The dispatcher staying
// in the same wait around the two reads means nothing was queued in between.
bool settle(const Scheduler& s, const FakeSteadyClock& clock) {
  return eventually([&] {
    const auto wait = clock.idle_waiter();
    if (!wait || s.waiting() != 0 || s.in_flight() != 0) return false;
    return clock.idle_waiter() == wait;
  });
}

// Moves fake time forward by `total` in steps of `step`, settling after each.
bool run_for(const Scheduler& s, FakeSteadyClock& clock, Millis total, Millis step) {
  for (Millis done{0}; done < total; done += step) {
    clock.advance(step);
    if (!settle(s, clock)) return false;
  }
  return true;
}

// Moves fake time forward in steps of `step` until `name` has `n` probes; false if that does not
// happen within `limit`.
bool run_until_probed(const Scheduler& s, FakeSteadyClock& clock, const ProbeLog& log,
                      const std::string& name, size_t n, Millis step, Millis limit) {
  for (Millis done{0}; log.count(name) < n; done += step) {
    if (done >= limit) return false;
    clock.advance(step);
    if (!settle(s, clock)) return false;
  }
  return log.count(name) == n;
}

// The jitter rule documented in scheduler.h.
Millis max_jitter(Millis interval) { return std::min<Millis>(interval / 10, 30s); }

TEST(Scheduler, FirstProbesAreSpreadOverTheWindow) {
  FakeSteadyClock clock;
  const Time t0 = clock.now();
  ProbeLog log(clock);
  Scheduler s(4, [&](const DomainConfig& d) { log.record(d); }, 10s, clock);
  const auto ds = domains(30, 1h);
  s.set_domains(ds);
  s.start();
  ASSERT_TRUE(settle(s, clock));
  ASSERT_TRUE(run_for(s, clock, 10s, 100ms));

  std::set<Time> slots;
  for (const auto& d : ds) {
    const auto times = log.times(d.name);
    ASSERT_EQ(times.size(), 1u) << d.name;
    EXPECT_LT(times[0], t0 + 10s) << d.name;
    slots.insert(times[0]);
  }
  // 30 names over 100 steps: far from all at once (deterministic: std::hash of the names).
  EXPECT_GT(slots.size(), ds.size() / 2);

  // Nothing more until the interval has passed.
  clock.advance(1h - 10s - 1ms);
  ASSERT_TRUE(settle(s, clock));
  for (const auto& d : ds) EXPECT_EQ(log.count(d.name), 1u) << d.name;
}

TEST(Scheduler, ProbedAgainOnlyAfterItsInterval) {
  FakeSteadyClock clock;
  const Time t0 = clock.now();
  ProbeLog log(clock);
  Scheduler s(1, [&](const DomainConfig& d) { log.record(d); }, 0ms, clock);
  s.set_domains({domain("a.example", 60s)});
  s.start();
  ASSERT_TRUE(settle(s, clock));
  ASSERT_EQ(log.times("a.example"), std::vector<Time>{t0});  // no spread: due at once

  for (size_t round = 2; round <= 4; ++round) {
    const Time previous = log.times("a.example").back();
    clock.advance(std::chrono::duration_cast<Millis>(previous + 60s - 1ms - clock.now()));
    ASSERT_TRUE(settle(s, clock));
    EXPECT_EQ(log.count("a.example"), round - 1) << "probed before its interval";
    ASSERT_TRUE(run_until_probed(s, clock, log, "a.example", round, 10ms, max_jitter(60s) + 10ms))
        << "round " << round;
    const auto gap = log.times("a.example").back() - previous;
    EXPECT_GE(gap, 60s);
    EXPECT_LT(gap, 60s + max_jitter(60s) + 10ms);
  }
}

TEST(Scheduler, RoundsGetJitterSoDomainsStartedTogetherDrift) {
  FakeSteadyClock clock;
  const Time t0 = clock.now();
  ProbeLog log(clock);
  Scheduler s(8, [&](const DomainConfig& d) { log.record(d); }, 0ms, clock);
  const auto ds = domains(8, 60s);
  s.set_domains(ds);
  s.start();
  ASSERT_TRUE(settle(s, clock));
  const Millis step = 50ms;
  ASSERT_TRUE(run_for(s, clock, 200s, step));

  std::set<Time> second_probes;
  std::set<Time::duration> gaps;
  for (const auto& d : ds) {
    const auto times = log.times(d.name);
    ASSERT_GE(times.size(), 3u) << d.name;
    EXPECT_EQ(times[0], t0) << d.name;  // all in lock-step at first
    second_probes.insert(times[1]);
    for (size_t i = 1; i < times.size(); ++i) {
      const auto gap = times[i] - times[i - 1];
      EXPECT_GE(gap, 60s) << d.name << " round " << i + 1;
      EXPECT_LT(gap, 60s + max_jitter(60s) + step) << d.name << " round " << i + 1;
      gaps.insert(gap);
    }
  }
  EXPECT_GE(second_probes.size(), 4u) << "domains with the same interval stay phase-locked";
  EXPECT_GT(gaps.size(), 1u) << "every round gets the same offset";
}

TEST(Scheduler, JitterIsCappedAtThirtySeconds) {
  FakeSteadyClock clock;
  ProbeLog log(clock);
  Scheduler s(4, [&](const DomainConfig& d) { log.record(d); }, 0ms, clock);
  const auto ds = domains(4, 1h);  // 10 % would be 6 minutes
  s.set_domains(ds);
  s.start();
  ASSERT_TRUE(settle(s, clock));
  clock.advance(1h - 1ms);
  ASSERT_TRUE(settle(s, clock));
  ASSERT_TRUE(run_for(s, clock, 30s + 1ms, 1s));
  for (const auto& d : ds) {
    const auto times = log.times(d.name);
    ASSERT_EQ(times.size(), 2u) << d.name;
    EXPECT_GE(times[1] - times[0], 1h) << d.name;
  }
}

TEST(Scheduler, LagGrowsWhileAllWorkersAreBusy) {
  FakeSteadyClock clock;
  ProbeLog log(clock);
  Gate gate;
  Scheduler s(1, [&](const DomainConfig& d) {
    log.record(d);
    gate.wait();
  }, 0ms, clock);
  OpenOnExit open_on_exit{gate};
  s.set_domains(domains(2, 1h));
  s.start();
  ASSERT_TRUE(eventually([&] { return s.in_flight() == 1 && s.waiting() == 1; }));
  EXPECT_EQ(s.lag_seconds(), 0.0);  // due right now
  clock.advance(5s);
  EXPECT_DOUBLE_EQ(s.lag_seconds(), 5.0);
  clock.advance(2500ms);
  EXPECT_DOUBLE_EQ(s.lag_seconds(), 7.5);

  gate.open();
  ASSERT_TRUE(eventually([&] { return s.completed() == 2; }));
  ASSERT_TRUE(settle(s, clock));
  EXPECT_EQ(s.lag_seconds(), 0.0);
}

TEST(Scheduler, LagIsZeroWhenNoProbeWaits) {
  FakeSteadyClock clock;
  Gate gate;
  Scheduler s(2, [&](const DomainConfig&) { gate.wait(); }, 0ms, clock);
  OpenOnExit open_on_exit{gate};
  s.set_domains({domain("slow.example", 1h)});
  s.start();
  ASSERT_TRUE(eventually([&] { return s.in_flight() == 1; }));
  clock.advance(30s);  // a probe running long is not lag: a worker is free
  EXPECT_EQ(s.waiting(), 0u);
  EXPECT_EQ(s.lag_seconds(), 0.0);
}

// Domains that became due while no worker was free start in the order they became due, not in
// name order (the dispatcher keeps them ordered by due time).
TEST(Scheduler, DueDomainsStartEarliestDueFirst) {
  FakeSteadyClock clock;
  std::mutex mu;
  std::vector<std::string> order;
  Scheduler s(1, [&](const DomainConfig& d) {
    std::lock_guard lock(mu);
    order.push_back(d.name);
  }, 0ms, clock);
  // Next due after the first round: z within 11 min, m within 33 min, a within 66 min.
  s.set_domains({domain("a.example", 1h), domain("m.example", 30min), domain("z.example", 10min)});
  s.start();
  ASSERT_TRUE(eventually([&] { return s.completed() == 3; }));
  ASSERT_TRUE(settle(s, clock));
  {
    std::lock_guard lock(mu);
    EXPECT_EQ(order, (std::vector<std::string>{"a.example", "m.example", "z.example"}));  // all due at once
    order.clear();
  }
  clock.advance(2h);  // all three are due again, each since a different time
  ASSERT_TRUE(eventually([&] { return s.completed() == 6; }));
  ASSERT_TRUE(settle(s, clock));
  std::lock_guard lock(mu);
  EXPECT_EQ(order, (std::vector<std::string>{"z.example", "m.example", "a.example"}));
}

TEST(Scheduler, ConcurrencyLimitHolds) {
  FakeSteadyClock clock;
  Gate gate;
  std::atomic<int> running{0}, peak{0};
  Scheduler s(3, [&](const DomainConfig&) {
    const int now = ++running;
    int p = peak;
    while (now > p && !peak.compare_exchange_weak(p, now)) {
    }
    gate.wait();
    --running;
  }, 0ms, clock);
  OpenOnExit open_on_exit{gate};
  s.set_domains(domains(20, 1h));
  s.start();
  ASSERT_TRUE(eventually([&] { return s.in_flight() == 3 && s.waiting() == 17; }));
  EXPECT_EQ(running, 3);
  gate.open();
  ASSERT_TRUE(eventually([&] { return s.completed() == 20; }));
  ASSERT_TRUE(settle(s, clock));
  EXPECT_EQ(peak, 3);
}

TEST(Scheduler, SetDomainsKeepsScheduleAddsNewAndForgetsRemoved) {
  FakeSteadyClock clock;
  const Time t0 = clock.now();
  ProbeLog log(clock);
  Scheduler s(2, [&](const DomainConfig& d) { log.record(d); }, 10s, clock);
  s.set_domains({domain("kept.example", 60s), domain("gone.example", 60s)});
  s.start();
  ASSERT_TRUE(settle(s, clock));
  ASSERT_TRUE(run_for(s, clock, 10s, 100ms));
  ASSERT_EQ(log.count("kept.example"), 1u);
  ASSERT_EQ(log.count("gone.example"), 1u);
  const Time kept_first = log.times("kept.example")[0];

  clock.advance(20s);
  ASSERT_TRUE(settle(s, clock));
  const Time reload = clock.now();
  ASSERT_EQ(reload, t0 + 30s);
  s.set_domains({domain("kept.example", 60s), domain("new.example", 60s)});
  ASSERT_TRUE(settle(s, clock));
  ASSERT_TRUE(run_for(s, clock, 10s, 100ms));
  ASSERT_EQ(log.count("new.example"), 1u) << "no first slot inside the spread window";
  EXPECT_GE(log.times("new.example")[0], reload);
  EXPECT_LT(log.times("new.example")[0], reload + 10s);
  EXPECT_EQ(log.count("kept.example"), 1u) << "kept domain was rescheduled by the reload";

  ASSERT_TRUE(run_for(s, clock, 200s, 100ms));
  const auto kept = log.times("kept.example");
  ASSERT_GE(kept.size(), 2u);
  EXPECT_GE(kept[1] - kept_first, 60s);
  EXPECT_LT(kept[1] - kept_first, 60s + max_jitter(60s) + 100ms);
  EXPECT_GE(log.count("new.example"), 2u);
  EXPECT_EQ(log.count("gone.example"), 1u);
}

TEST(Scheduler, RemovedWhileWaitingForAWorkerIsNotProbed) {
  FakeSteadyClock clock;
  ProbeLog log(clock);
  Gate gate;
  Scheduler s(1, [&](const DomainConfig& d) {
    log.record(d);
    if (d.name == "blocker.example") gate.wait();
  }, 0ms, clock);
  OpenOnExit open_on_exit{gate};
  const auto blocker = domain("blocker.example", 1h);
  const auto gone = domain("gone.example", 1h);
  s.set_domains({blocker, gone});
  s.start();
  // Names are dispatched in order, so the blocker holds the only worker and gone waits.
  ASSERT_TRUE(eventually([&] { return s.in_flight() == 1 && s.waiting() == 1; }));
  s.set_domains({blocker});
  EXPECT_EQ(s.waiting(), 0u);
  // Added back before a worker was free: queued once, not twice.
  s.set_domains({blocker, gone});
  ASSERT_TRUE(eventually([&] { return s.waiting() == 1; }));
  gate.open();
  ASSERT_TRUE(eventually([&] { return s.completed() == 2; }));
  ASSERT_TRUE(settle(s, clock));
  EXPECT_EQ(log.count("gone.example"), 1u);

  s.set_domains({blocker});
  ASSERT_TRUE(settle(s, clock));
  ASSERT_TRUE(run_for(s, clock, 3h, 10min));
  EXPECT_EQ(log.count("gone.example"), 1u);
  EXPECT_GE(log.count("blocker.example"), 3u);
}

TEST(Scheduler, StopWaitsForRunningProbesButStartsNoWaitingOnes) {
  FakeSteadyClock clock;
  ProbeLog log(clock);
  Gate gate;
  Scheduler s(1, [&](const DomainConfig& d) {
    log.record(d);
    gate.wait();
  }, 0ms, clock);
  OpenOnExit open_on_exit{gate};
  s.set_domains(domains(5, 1h));
  s.start();
  ASSERT_TRUE(eventually([&] { return s.in_flight() == 1 && s.waiting() == 4; }));
  ASSERT_TRUE(eventually([&] { return clock.idle_waiter().has_value(); }));

  std::atomic<bool> stopped{false};
  std::thread stopper([&] {
    s.stop();
    stopped = true;
  });
  // The dispatcher leaves its wait only for a stop here: time does not move and nothing changes.
  ASSERT_TRUE(eventually([&] { return !clock.has_waiter(); }));
  EXPECT_FALSE(stopped) << "stop() returned while a probe was still running";
  gate.open();
  stopper.join();
  EXPECT_TRUE(stopped);
  EXPECT_EQ(s.completed(), 1);
  for (int i = 1; i < 5; ++i) EXPECT_EQ(log.count("d" + std::to_string(i) + ".example"), 0u);
}

// The production clock: a smoke test that the scheduler runs on steady_clock without a fake.
TEST(Scheduler, RunsOnTheRealClock) {
  std::mutex mu;
  std::map<std::string, int> runs;
  Scheduler s(2, [&](const DomainConfig& d) {
    std::lock_guard lock(mu);
    ++runs[d.name];
  }, 50ms);
  s.set_domains({domain("a.example", 100ms), domain("b.example", 100ms)});
  s.start();
  ASSERT_TRUE(eventually([&] {
    std::lock_guard lock(mu);
    return runs["a.example"] >= 3 && runs["b.example"] >= 3;
  }));
  s.stop();
}

}  // namespace
}  // namespace mailtls::exporter
