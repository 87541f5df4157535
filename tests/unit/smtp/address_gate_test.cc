// Politeness per MX address: at most max_sessions open at once, min_gap between starts, and a
// wait that never outlasts the caller's deadline.
#include "probes/smtp/address_gate.h"

#include <gtest/gtest.h>

#include <chrono>
#include <thread>

namespace mailtls::smtp {
namespace {

using std::chrono::hours;
using std::chrono::milliseconds;

Deadline passed() { return Deadline(Deadline::Clock::now()); }

TEST(AddressGate, LimitsOpenSessionsPerAddress) {
  AddressGate gate({.max_sessions = 2, .min_gap = milliseconds(0)});
  auto first = gate.enter("192.0.2.1", Deadline::never());
  auto second = gate.enter("192.0.2.1", Deadline::never());
  ASSERT_TRUE(first);
  ASSERT_TRUE(second);
  EXPECT_FALSE(gate.enter("192.0.2.1", passed()));  // a third must wait; its deadline has passed
  EXPECT_TRUE(gate.enter("192.0.2.2", passed()));   // another address is not held up
  first = AddressGate::Pass();                       // one session ends
  EXPECT_TRUE(gate.enter("192.0.2.1", passed()));
}

TEST(AddressGate, KeepsAGapBetweenSessionStarts) {
  AddressGate gate({.max_sessions = 0, .min_gap = hours(1)});
  { auto pass = gate.enter("192.0.2.1", Deadline::never()); ASSERT_TRUE(pass); }
  // The session ended, but the next one may not start before the gap has run out.
  EXPECT_FALSE(gate.enter("192.0.2.1", passed()));
  EXPECT_TRUE(gate.enter("2001:db8::1", passed()));
}

TEST(AddressGate, AWaiterGetsTheSlotWhenASessionEnds) {
  AddressGate gate({.max_sessions = 1, .min_gap = milliseconds(0)});
  auto held = gate.enter("192.0.2.1", Deadline::never());
  ASSERT_TRUE(held);
  bool admitted = false;
  std::jthread waiter([&] { admitted = static_cast<bool>(gate.enter("192.0.2.1", Deadline::never())); });
  held = AddressGate::Pass();
  waiter.join();
  EXPECT_TRUE(admitted);
}

TEST(AddressGate, ForgetsAddressesWithNothingOpen) {
  AddressGate gate({.max_sessions = 1, .min_gap = milliseconds(0)});
  {
    auto a = gate.enter("192.0.2.1", Deadline::never());
    auto b = gate.enter("192.0.2.2", Deadline::never());
    EXPECT_EQ(gate.tracked_addresses(), 2u);
  }
  EXPECT_EQ(gate.tracked_addresses(), 0u);
}

}  // namespace
}  // namespace mailtls::smtp
