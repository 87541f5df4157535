#pragma once
// Runs every configured domain's probe on its own interval with a fixed pool of workers (the
// concurrency limit), so thousands of domains need `concurrency` threads, not one each.
// First probes are spread over a short window (hash of the name) so a restart does not fire
// every domain at once. Later rounds start `interval` plus a jitter in [0, min(interval / 10,
// 30 s)) after the previous probe started (deterministic from the name and the round number),
// so a domain is never probed more often than its interval and domains that start together do
// not stay in lock-step. Time comes from a SchedulerClock (steady_clock unless a test passes a
// fake). Thread-safe.

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <deque>
#include <functional>
#include <map>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "exporter/config/config.h"
#include "exporter/runtime/scheduler_clock.h"

namespace mailtls::exporter {

class Scheduler {
 public:
  using SteadyTime = SchedulerClock::TimePoint;
  using ProbeFn = std::function<void(const DomainConfig&)>;

  // `clock` is borrowed and must outlive the scheduler.
  Scheduler(int concurrency, ProbeFn probe,
            std::chrono::milliseconds first_probe_spread = std::chrono::seconds(10),
            SchedulerClock& clock = RealSchedulerClock::instance());
  ~Scheduler();

  // Replaces the domain list: kept domains keep their schedule (with new interval), new ones get
  // a first slot inside the spread window, removed ones are forgotten (a running probe finishes).
  void set_domains(const std::vector<DomainConfig>& domains);
  void start();
  void stop();

  int in_flight() const { return in_flight_; }
  // Due probes waiting for a free worker.
  size_t waiting() const;
  // How far behind schedule the oldest due, not yet started probe is (0 when none waits).
  double lag_seconds() const;
  // Probes completed since start (for tests and logs). Counted after the domain's next round is
  // scheduled.
  long completed() const { return completed_; }

 private:
  struct Entry {
    DomainConfig domain;
    SteadyTime due;
    bool queued = false;  // waiting for or running on a worker
    long round = 0;       // probes started so far; seeds the jitter of the next one
  };
  static std::chrono::milliseconds first_probe_offset(const std::string& name,
                                                      std::chrono::milliseconds spread);
  static std::chrono::milliseconds round_jitter(const std::string& name, long round,
                                                std::chrono::milliseconds interval);
  // The entries not queued, earliest due first (ties by name), so the dispatcher takes what is
  // due without walking every domain: at 100,000 domains a walk after each finished probe cost
  // more than the probes and held mu_, which the workers wait for.
  struct DueOrder {
    bool operator()(const std::pair<SteadyTime, const std::string*>& a,
                    const std::pair<SteadyTime, const std::string*>& b) const {
      return a.first != b.first ? a.first < b.first : *a.second < *b.second;
    }
  };
  void rebuild_due();  // mu_ held
  void dispatch_loop(std::stop_token st);
  void worker_loop(std::stop_token st);

  const int concurrency_;
  const ProbeFn probe_;
  const std::chrono::milliseconds spread_;
  SchedulerClock& clock_;
  mutable std::mutex mu_;
  std::condition_variable_any dispatch_cv_;
  std::condition_variable_any work_cv_;
  std::map<std::string, Entry> entries_;
  // (due, the name as keyed in entries_) of every entry that is not queued.
  std::set<std::pair<SteadyTime, const std::string*>, DueOrder> due_;
  std::deque<std::pair<std::string, SteadyTime>> ready_;  // domain, when it was due
  bool schedule_changed_ = false;  // wakes the dispatcher before its next due time
  std::atomic<int> in_flight_{0};  // changed with mu_ held, together with ready_ and entries_
  std::atomic<long> completed_{0};
  std::vector<std::jthread> threads_;
};

}  // namespace mailtls::exporter
