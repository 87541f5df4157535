#include "exporter/runtime/periodic_thread.h"

#include <algorithm>
#include <condition_variable>
#include <mutex>

namespace mailtls::exporter {

std::chrono::milliseconds PeriodicThread::pause_after(std::chrono::milliseconds interval,
                                                      std::chrono::steady_clock::duration took,
                                                      double max_busy_share) {
  if (!(max_busy_share > 0) || max_busy_share >= 1) return interval;
  const double ms = std::chrono::duration<double, std::milli>(took).count() *
                    (1 - max_busy_share) / max_busy_share;
  return std::max(interval, std::chrono::milliseconds(static_cast<long long>(ms)));
}

void PeriodicThread::start(std::chrono::milliseconds interval, std::function<void()> task,
                           double max_busy_share) {
  stop();
  thread_ = std::jthread([interval, max_busy_share, task = std::move(task)](std::stop_token st) {
    std::mutex mu;
    std::condition_variable_any cv;
    while (!st.stop_requested()) {
      const auto started = std::chrono::steady_clock::now();
      task();
      const auto pause =
          pause_after(interval, std::chrono::steady_clock::now() - started, max_busy_share);
      std::unique_lock lock(mu);
      cv.wait_for(lock, st, pause, [] { return false; });
    }
  });
}

void PeriodicThread::stop() {
  if (!thread_.joinable()) return;
  thread_.request_stop();
  thread_.join();
}

}  // namespace mailtls::exporter
