#include "exporter/scheduler.h"

#include <spdlog/spdlog.h>

namespace mailtls::exporter {

Scheduler::Scheduler(int concurrency, ProbeFn probe, std::chrono::milliseconds first_probe_spread)
    : concurrency_(std::max(1, concurrency)), probe_(std::move(probe)), spread_(first_probe_spread) {}

Scheduler::~Scheduler() { stop(); }

void Scheduler::set_domains(const std::vector<DomainConfig>& domains) {
  std::lock_guard lock(mu_);
  std::map<std::string, Entry> next;
  const auto now = std::chrono::steady_clock::now();
  for (const auto& d : domains) {
    auto it = entries_.find(d.name);
    if (it != entries_.end()) {
      Entry e = it->second;
      e.domain = d;
      next.emplace(d.name, std::move(e));
      continue;
    }
    const auto spread = std::min<std::chrono::milliseconds>(spread_, d.interval);
    const auto offset = spread.count() > 0
                            ? std::chrono::milliseconds(std::hash<std::string>{}(d.name) %
                                                        static_cast<size_t>(spread.count()))
                            : std::chrono::milliseconds(0);
    next.emplace(d.name, Entry{d, now + offset, false});
  }
  entries_ = std::move(next);
  // Queued names that were removed are skipped by the workers.
  schedule_changed_ = true;
  dispatch_cv_.notify_all();
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

double Scheduler::lag_seconds() const {
  std::lock_guard lock(mu_);
  if (ready_.empty()) return 0;
  const auto late = std::chrono::steady_clock::now() - ready_.front().second;
  return std::max(0.0, std::chrono::duration<double>(late).count());
}

void Scheduler::dispatch_loop(std::stop_token st) {
  std::unique_lock lock(mu_);
  while (!st.stop_requested()) {
    const auto now = std::chrono::steady_clock::now();
    auto next_wake = now + std::chrono::seconds(60);
    bool added = false;
    for (auto& [name, e] : entries_) {
      if (e.queued) continue;
      if (e.due <= now) {
        e.queued = true;
        ready_.emplace_back(name, e.due);
        added = true;
      } else {
        next_wake = std::min(next_wake, e.due);
      }
    }
    if (added) work_cv_.notify_all();
    dispatch_cv_.wait_until(lock, st, next_wake, [this] { return schedule_changed_; });
    schedule_changed_ = false;
  }
}

void Scheduler::worker_loop(std::stop_token st) {
  for (;;) {
    DomainConfig domain;
    {
      std::unique_lock lock(mu_);
      if (!work_cv_.wait(lock, st, [this] { return !ready_.empty(); })) return;
      const std::string name = ready_.front().first;
      ready_.pop_front();
      auto it = entries_.find(name);
      if (it == entries_.end()) continue;  // removed from the config meanwhile
      domain = it->second.domain;
    }
    const auto started = std::chrono::steady_clock::now();
    ++in_flight_;
    try {
      probe_(domain);
    } catch (const std::exception& e) {
      spdlog::error("probe of {} failed unexpectedly: {}", domain.name, e.what());
    }
    --in_flight_;
    ++completed_;
    std::lock_guard lock(mu_);
    auto it = entries_.find(domain.name);
    if (it != entries_.end()) {
      it->second.queued = false;
      it->second.due = started + it->second.domain.interval;
    }
    schedule_changed_ = true;
    dispatch_cv_.notify_all();
  }
}

}  // namespace mailtls::exporter
