#pragma once
// A fixed set of threads running tasks from a bounded queue: the web server's handlers run
// here, after the whole request has been read. A full queue refuses the task (the server
// answers 503) rather than letting waiting requests pile up without limit.

#include <condition_variable>
#include <cstddef>
#include <deque>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

namespace mailtls::exporter {

class WorkerPool {
 public:
  WorkerPool(size_t threads, size_t max_queued);
  ~WorkerPool();  // stop()
  WorkerPool(const WorkerPool&) = delete;
  WorkerPool& operator=(const WorkerPool&) = delete;

  // False when max_queued tasks are already waiting, or after stop().
  bool try_submit(std::function<void()> task);
  // Lets running tasks end, drops queued ones, joins the threads.
  void stop();

 private:
  void run();

  const size_t max_queued_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<std::function<void()>> queue_;
  bool stopping_ = false;
  std::vector<std::thread> threads_;
};

}  // namespace mailtls::exporter
