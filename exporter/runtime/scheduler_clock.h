#pragma once
// The scheduler's view of time: a monotonic now() and a way to sleep until a time point on that
// clock or until woken. Production uses steady_clock; tests pass a fake whose time only moves
// when the test advances it (tests/fakes/fake_steady_clock.h).

#include <chrono>
#include <condition_variable>
#include <functional>
#include <mutex>
#include <stop_token>

namespace mailtls::exporter {

class SchedulerClock {
 public:
  using TimePoint = std::chrono::steady_clock::time_point;

  virtual ~SchedulerClock() = default;
  virtual TimePoint now() const = 0;
  // Waits on `cv` (whose mutex `lock` holds) until `done()` holds, `deadline` has passed on this
  // clock or `stop` is requested. `done` is evaluated with the lock held. Returns done().
  // Whoever changes what `done` reads notifies `cv` as usual; the clock wakes the waiter itself
  // when its time passes the deadline.
  virtual bool wait_until(std::unique_lock<std::mutex>& lock, std::condition_variable_any& cv,
                          std::stop_token stop, TimePoint deadline,
                          const std::function<bool()>& done) = 0;
};

// std::chrono::steady_clock. Stateless; one shared instance.
class RealSchedulerClock final : public SchedulerClock {
 public:
  static RealSchedulerClock& instance() {
    static RealSchedulerClock clock;
    return clock;
  }
  TimePoint now() const override { return std::chrono::steady_clock::now(); }
  bool wait_until(std::unique_lock<std::mutex>& lock, std::condition_variable_any& cv,
                  std::stop_token stop, TimePoint deadline,
                  const std::function<bool()>& done) override {
    return cv.wait_until(lock, stop, deadline, done);
  }
};

}  // namespace mailtls::exporter
