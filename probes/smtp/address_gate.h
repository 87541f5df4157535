#pragma once
// Politeness towards the servers we monitor: at most `max_sessions` SMTP sessions open to one
// address at a time, and at least `min_gap` between the starts of two sessions to it, so a
// server never sees a burst from us however many domains point at it. A probe that would
// exceed either waits (bounded by its deadline); the caller counts the time spent waiting.
// Thread-safe.

#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <map>
#include <mutex>
#include <string>

#include "probes/base/deadline.h"

namespace mailtls::smtp {

struct PolitenessSettings {
  std::size_t max_sessions = 2;                  // per address at a time; 0: no limit
  std::chrono::milliseconds min_gap{100};         // between session starts to one address
};

class AddressGate {
 public:
  explicit AddressGate(PolitenessSettings settings);

  // Held while a session to `address` is open; gives the slot back when it goes away.
  class Pass {
   public:
    Pass() = default;
    Pass(Pass&& other) noexcept;
    Pass& operator=(Pass&& other) noexcept;
    Pass(const Pass&) = delete;
    Pass& operator=(const Pass&) = delete;
    ~Pass();
    explicit operator bool() const { return gate_ != nullptr; }

   private:
    friend class AddressGate;
    Pass(AddressGate* gate, std::string address) : gate_(gate), address_(std::move(address)) {}
    void release();
    AddressGate* gate_ = nullptr;
    std::string address_;
  };

  // Waits until a session to `address` may start, at the latest until `deadline`: an empty
  // Pass when the deadline came first (the caller reports its own timeout, never the server's).
  Pass enter(const std::string& address, Deadline deadline);

  // Addresses with state held (open sessions or a gap still running), for tests.
  std::size_t tracked_addresses() const;

 private:
  struct AddressState {
    std::size_t open = 0;
    std::chrono::steady_clock::time_point next_start{};
  };
  void leave(const std::string& address);

  const PolitenessSettings settings_;
  mutable std::mutex mu_;
  std::condition_variable changed_;
  std::map<std::string, AddressState> addresses_;
};

}  // namespace mailtls::smtp
