#pragma once
// A SchedulerClock whose time moves only when the test calls advance(). A thread blocked in
// wait_until() wakes when advance() passes its deadline (or when its own condition variable is
// notified, as with the real clock). idle_waiter() lets a test wait until the waiting thread has
// seen everything there is to see, without sleeping for time to pass.
// Supports one waiting thread at a time (the scheduler's dispatcher). Thread-safe.

#include <cassert>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <mutex>
#include <optional>
#include <stop_token>

#include "exporter/runtime/scheduler_clock.h"

namespace mailtls::testing {

class FakeSteadyClock final : public exporter::SchedulerClock {
 public:
  // Starts well after the epoch so "now - something" never underflows in the code under test.
  explicit FakeSteadyClock(TimePoint start = TimePoint(std::chrono::hours(1000))) : now_(start) {}

  TimePoint now() const override {
    std::lock_guard lock(mu_);
    return now_;
  }

  // Moves time forward and wakes the waiter (its condition is re-checked under its own mutex,
  // which advance() takes before notifying, so the wake-up cannot be lost).
  void advance(std::chrono::milliseconds d) {
    Waiter w;
    {
      std::lock_guard lock(mu_);
      now_ += d;
      if (!waiter_) return;
      w = *waiter_;
    }
    std::lock_guard waiter_lock(*w.mutex);
    w.cv->notify_all();
  }

  bool wait_until(std::unique_lock<std::mutex>& lock, std::condition_variable_any& cv,
                  std::stop_token stop, TimePoint deadline,
                  const std::function<bool()>& done) override {
    {
      std::lock_guard guard(mu_);
      assert(!waiter_ && "FakeSteadyClock supports one waiting thread");
      waiter_ = Waiter{&cv, lock.mutex(), &done, deadline, ++waits_};
    }
    cv.wait(lock, stop, [&] { return done() || now() >= deadline; });
    std::lock_guard guard(mu_);
    waiter_.reset();
    return done();
  }

  // Whether a thread is inside wait_until(). It stays inside across spurious wake-ups; it leaves
  // when its condition holds, its deadline passes or a stop is requested.
  bool has_waiter() const {
    std::lock_guard lock(mu_);
    return waiter_.has_value();
  }

  // If a thread is blocked in wait_until() and has nothing to wake up for (its condition is
  // false and its deadline is ahead), returns the number of that wait; the same number later
  // means it stayed asleep in between. nullopt otherwise.
  std::optional<uint64_t> idle_waiter() const {
    Waiter w;
    {
      std::lock_guard lock(mu_);
      if (!waiter_) return std::nullopt;
      w = *waiter_;
    }
    // The waiter's mutex first, as the waiter takes it before ours; then check it is the same
    // wait: while we hold its mutex it cannot leave wait_until(), so `done` is alive.
    std::lock_guard waiter_lock(*w.mutex);
    {
      std::lock_guard lock(mu_);
      if (!waiter_ || waiter_->wait != w.wait) return std::nullopt;
      if (now_ >= w.deadline) return std::nullopt;
    }
    if ((*w.done)()) return std::nullopt;
    return w.wait;
  }

 private:
  struct Waiter {
    std::condition_variable_any* cv = nullptr;
    std::mutex* mutex = nullptr;
    const std::function<bool()>* done = nullptr;
    TimePoint deadline;
    uint64_t wait = 0;
  };
  mutable std::mutex mu_;
  TimePoint now_;
  std::optional<Waiter> waiter_;
  uint64_t waits_ = 0;
};

}  // namespace mailtls::testing
