#include "exporter/runtime/periodic_thread.h"

#include <condition_variable>
#include <mutex>

namespace mailtls::exporter {

void PeriodicThread::start(std::chrono::milliseconds interval, std::function<void()> task) {
  stop();
  thread_ = std::jthread([interval, task = std::move(task)](std::stop_token st) {
    std::mutex mu;
    std::condition_variable_any cv;
    while (!st.stop_requested()) {
      task();
      std::unique_lock lock(mu);
      cv.wait_for(lock, st, interval, [] { return false; });
    }
  });
}

void PeriodicThread::stop() {
  if (!thread_.joinable()) return;
  thread_.request_stop();
  thread_.join();
}

}  // namespace mailtls::exporter
