#pragma once
// A point in monotonic time by which an operation must finish. Every network wait in probes/
// takes one, so a whole probe is bounded by the probe timeout however many steps it has.

#include <chrono>

namespace mailtls {

class Deadline {
 public:
  using Clock = std::chrono::steady_clock;

  explicit Deadline(Clock::time_point at) : at_(at) {}
  static Deadline after(std::chrono::milliseconds d) { return Deadline(Clock::now() + d); }
  static Deadline never();

  Clock::time_point at() const { return at_; }
  bool expired() const { return Clock::now() >= at_; }
  // Time left, never negative.
  std::chrono::milliseconds remaining() const;
  // The earlier of this deadline and now + d: a step may have its own, shorter, limit.
  Deadline capped(std::chrono::milliseconds d) const;
  // Milliseconds left as an int for poll(2), at least 0, at most INT_MAX.
  int poll_timeout_ms() const;

 private:
  Clock::time_point at_;
};

}  // namespace mailtls
