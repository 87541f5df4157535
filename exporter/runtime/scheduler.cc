#include "exporter/runtime/scheduler.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <cstdint>

#include "exporter/runtime/logging.h"

namespace mailtls::exporter {
namespace {

// splitmix64 finaliser: spreads a name hash and a round number over all 64 bits.
uint64_t mix(uint64_t x) {
  x += 0x9e3779b97f4a7c15ULL;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
  return x ^ (x >> 31);
}

std::chrono::milliseconds below(uint64_t seed, std::chrono::milliseconds limit) {
  if (limit.count() <= 0) return std::chrono::milliseconds(0);
  return std::chrono::milliseconds(seed % static_cast<uint64_t>(limit.count()));
}

}  // namespace

Scheduler::Scheduler(int concurrency, ProbeFn probe, std::chrono::milliseconds first_probe_spread,
                     SchedulerClock& clock)
    : concurrency_(std::max(1, concurrency)),
      probe_(std::move(probe)),
      spread_(first_probe_spread),
      clock_(clock) {}

Scheduler::~Scheduler() { stop(); }

std::chrono::milliseconds Scheduler::first_probe_offset(const std::string& name,
                                                        std::chrono::milliseconds spread) {
  return below(std::hash<std::string>{}(name), spread);
}

std::chrono::milliseconds Scheduler::round_jitter(const std::string& name, long round,
                                                  std::chrono::milliseconds interval) {
  const auto limit = std::min<std::chrono::milliseconds>(interval / 10, std::chrono::seconds(30));
  return below(mix(std::hash<std::string>{}(name) ^ mix(static_cast<uint64_t>(round))), limit);
}

void Scheduler::set_domains(const std::vector<DomainConfig>& domains) {
  std::lock_guard lock(mu_);
  std::map<std::string, Entry> next;
  const auto now = clock_.now();
  for (const auto& d : domains) {
    auto it = entries_.find(d.name);
    if (it != entries_.end()) {
      Entry e = it->second;
      e.domain = d;
      next.emplace(d.name, std::move(e));
      continue;
    }
    const auto offset = first_probe_offset(d.name, std::min(spread_, d.interval));
    next.emplace(d.name, Entry{d, now + offset});
  }
  entries_ = std::move(next);
  rebuild_due();
  // Removed domains waiting for a worker are dropped, so they are not counted in the lag and a
  // domain removed and added back is not queued twice. A running probe finishes.
  std::erase_if(ready_, [this](const auto& r) { return !entries_.contains(r.first); });
  schedule_changed_ = true;
  dispatch_cv_.notify_all();
}

void Scheduler::rebuild_due() {
  due_.clear();
  for (const auto& [name, e] : entries_) {
    if (!e.queued) due_.emplace(e.due, &name);
  }
}

void Scheduler::start() {
  threads_.emplace_back([this](std::stop_token st) { dispatch_loop(st); });
  for (int i = 0; i < concurrency_; ++i) {
    threads_.emplace_back([this](std::stop_token st) { worker_loop(st); });
  }
}

void Scheduler::stop() {
  for (auto& t : threads_) t.request_stop();
  dispatch_cv_.notify_all();
  work_cv_.notify_all();
  threads_.clear();  // joins
}

size_t Scheduler::waiting() const {
  std::lock_guard lock(mu_);
  return ready_.size();
}

double Scheduler::lag_seconds() const {
  std::lock_guard lock(mu_);
  if (ready_.empty()) return 0;
  const auto late = clock_.now() - ready_.front().second;
  return std::max(0.0, std::chrono::duration<double>(late).count());
}

void Scheduler::dispatch_loop(std::stop_token st) {
  std::unique_lock lock(mu_);
  while (!st.stop_requested()) {
    const auto now = clock_.now();
    auto next_wake = now + std::chrono::seconds(60);
    bool added = false;
    while (!due_.empty() && due_.begin()->first <= now) {
      const std::string& name = *due_.begin()->second;
      due_.erase(due_.begin());
      Entry& e = entries_.at(name);
      e.queued = true;
      ready_.emplace_back(name, e.due);
      added = true;
    }
    if (!due_.empty()) next_wake = std::min(next_wake, due_.begin()->first);
    if (added) work_cv_.notify_all();
    clock_.wait_until(lock, dispatch_cv_, st, next_wake, [this] { return schedule_changed_; });
    schedule_changed_ = false;
  }
}

void Scheduler::worker_loop(std::stop_token st) {
  for (;;) {
    DomainConfig domain;
    long round = 0;
    SteadyTime started;
    {
      std::unique_lock lock(mu_);
      // wait() still returns true after a stop request when work is queued: check the token, or
      // stop() would wait for the whole backlog to be probed.
      if (!work_cv_.wait(lock, st, [this] { return !ready_.empty(); }) || st.stop_requested()) {
        return;
      }
      const std::string name = ready_.front().first;
      ready_.pop_front();
      auto it = entries_.find(name);
      if (it == entries_.end()) continue;  // removed from the config meanwhile
      domain = it->second.domain;
      round = ++it->second.round;
      started = clock_.now();
      ++in_flight_;  // with the pop, so "nothing queued and nothing in flight" is never torn
    }
    try {
      probe_(domain);
    } catch (const std::exception& e) {
      log_event(spdlog::level::err, "probe failed unexpectedly",
                {{"domain", domain.name}, {"err", e.what()}});
    }
    std::lock_guard lock(mu_);
    auto it = entries_.find(domain.name);
    if (it != entries_.end()) {
      Entry& e = it->second;
      e.queued = false;
      e.due = started + e.domain.interval + round_jitter(domain.name, round, e.domain.interval);
      due_.emplace(e.due, &it->first);
    }
    --in_flight_;
    ++completed_;
    schedule_changed_ = true;
    dispatch_cv_.notify_all();
  }
}

}  // namespace mailtls::exporter
