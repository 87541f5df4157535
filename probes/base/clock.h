#pragma once
// Wall-clock time behind an interface, so verdicts that depend on "now" (certificate
// expiry, RRSIG expiry, renewal windows) are tested with a fixed time.

#include <chrono>

namespace mailtls {

using SystemTime = std::chrono::system_clock::time_point;

class Clock {
 public:
  virtual ~Clock() = default;
  virtual SystemTime now() const = 0;
};

class SystemClock final : public Clock {
 public:
  SystemTime now() const override { return std::chrono::system_clock::now(); }
};

// Seconds since the Unix epoch, as Prometheus *_timestamp_seconds metrics want them.
inline double to_unix_seconds(SystemTime t) {
  return std::chrono::duration<double>(t.time_since_epoch()).count();
}

}  // namespace mailtls
