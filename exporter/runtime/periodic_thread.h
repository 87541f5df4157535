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
  void start(std::chrono::milliseconds interval, std::function<void()> task);
  // Asks the thread to stop and joins it; does nothing when it is not running.
  void stop();

 private:
  std::jthread thread_;
};

}  // namespace mailtls::exporter
