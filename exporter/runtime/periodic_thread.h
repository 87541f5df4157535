#pragma once
// A background thread that runs one task, then sleeps, over and over until it is stopped.
// stop() (and the destructor) wakes it at once and waits for the task in progress to end.
// The exporter's background work (state saver, Maildir watcher, metrics renderer) runs on
// these; docs/architecture.md, section "Threads", lists them.

#include <chrono>
#include <functional>
#include <thread>

namespace mailtls::exporter {

class PeriodicThread {
 public:
  PeriodicThread() = default;
  ~PeriodicThread() { stop(); }
  PeriodicThread(const PeriodicThread&) = delete;
  PeriodicThread& operator=(const PeriodicThread&) = delete;

  // Runs `task` now and then every `interval` (measured from the end of one run to the start
  // of the next). An exception escaping `task` ends the process, as on any thread: tasks
  // catch their own.
  // With `max_busy_share` below 1, the pause after a run is at least long enough that the task
  // takes no more than that share of the thread's time (see pause_after), however much its work
  // grows (a state or a /metrics answer of 100,000 domains).
  void start(std::chrono::milliseconds interval, std::function<void()> task,
             double max_busy_share = 1.0);
  // Asks the thread to stop and joins it; does nothing when it is not running.
  void stop();

  // The pause after a run that took `took`: `interval`, or took * (1 - share) / share when that
  // is longer (share in (0, 1]; 1 or more: always `interval`).
  static std::chrono::milliseconds pause_after(std::chrono::milliseconds interval,
                                               std::chrono::steady_clock::duration took,
                                               double max_busy_share);

 private:
  std::jthread thread_;
};

}  // namespace mailtls::exporter
