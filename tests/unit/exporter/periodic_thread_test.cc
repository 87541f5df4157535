#include "exporter/runtime/periodic_thread.h"

#include <gtest/gtest.h>

namespace mailtls::exporter {
namespace {

using std::chrono::milliseconds;

TEST(PeriodicThreadPause, IsTheIntervalWhileTheTaskIsShort) {
  EXPECT_EQ(PeriodicThread::pause_after(milliseconds(5000), milliseconds(100), 0.1), milliseconds(5000));
  EXPECT_EQ(PeriodicThread::pause_after(milliseconds(5000), milliseconds(0), 0.1), milliseconds(5000));
}

TEST(PeriodicThreadPause, GrowsSoALongTaskKeepsItsShareOfTheTime) {
  // 2 s of work may take a tenth of the time: 18 s of pause after it.
  EXPECT_EQ(PeriodicThread::pause_after(milliseconds(5000), milliseconds(2000), 0.1), milliseconds(18000));
  EXPECT_EQ(PeriodicThread::pause_after(milliseconds(500), milliseconds(1000), 0.5), milliseconds(1000));
}

TEST(PeriodicThreadPause, WithoutAShareLimitIsAlwaysTheInterval) {
  EXPECT_EQ(PeriodicThread::pause_after(milliseconds(5000), milliseconds(60000), 1.0), milliseconds(5000));
  EXPECT_EQ(PeriodicThread::pause_after(milliseconds(5000), milliseconds(60000), 0.0), milliseconds(5000));
}

}  // namespace
}  // namespace mailtls::exporter
