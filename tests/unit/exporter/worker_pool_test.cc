// The web server's bounded handler pool: tasks run, and a full queue refuses rather than grows.

#include "exporter/http/worker_pool.h"

#include <gtest/gtest.h>

#include <atomic>
#include <future>
#include <thread>

namespace mailtls::exporter {
namespace {

TEST(WorkerPool, RunsTasksAndRefusesWhenTheQueueIsFull) {
  WorkerPool pool(1, 2);
  std::promise<void> release;
  std::shared_future<void> released = release.get_future().share();
  std::promise<void> started;
  std::atomic<int> ran{0};
  ASSERT_TRUE(pool.try_submit([&] {
    started.set_value();
    released.wait();
    ++ran;
  }));
  started.get_future().wait();  // the only thread is busy now
  EXPECT_TRUE(pool.try_submit([&] { ++ran; }));
  EXPECT_TRUE(pool.try_submit([&] { ++ran; }));
  EXPECT_FALSE(pool.try_submit([&] { ++ran; })) << "a third waiting task was queued";
  std::promise<void> last;
  release.set_value();
  // Once the queue drains there is room again.
  while (!pool.try_submit([&] { last.set_value(); })) std::this_thread::yield();
  last.get_future().wait();
  EXPECT_EQ(ran.load(), 3);
  pool.stop();
  EXPECT_FALSE(pool.try_submit([] {}));
}

}  // namespace
}  // namespace mailtls::exporter
