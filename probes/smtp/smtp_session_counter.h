#pragma once
// What the exporter's STARTTLS probes cost the servers they watch, since the process started:
// SMTP sessions opened, probes answered by an observation another domain's probe made
// (observation_cache.h), and time spent waiting for an address's politeness limits
// (address_gate.h). The server keeps one across configuration reloads, so the counters never go
// back to 0 while it runs. Thread-safe.

#include <atomic>
#include <chrono>
#include <cstdint>

namespace mailtls::smtp {

class SmtpSessionCounter {
 public:
  void count_session() { sessions_.fetch_add(1, std::memory_order_relaxed); }
  void count_reuse() { reused_.fetch_add(1, std::memory_order_relaxed); }
  void count_wait(std::chrono::steady_clock::duration d) {
    waited_ns_.fetch_add(
        static_cast<std::uint64_t>(std::chrono::duration_cast<std::chrono::nanoseconds>(d).count()),
        std::memory_order_relaxed);
  }
  std::uint64_t sessions() const { return sessions_.load(std::memory_order_relaxed); }
  std::uint64_t reused() const { return reused_.load(std::memory_order_relaxed); }
  double waited_seconds() const {
    return static_cast<double>(waited_ns_.load(std::memory_order_relaxed)) / 1e9;
  }

 private:
  std::atomic<std::uint64_t> sessions_{0};
  std::atomic<std::uint64_t> reused_{0};
  std::atomic<std::uint64_t> waited_ns_{0};
};

}  // namespace mailtls::smtp
