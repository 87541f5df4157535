#include "probes/smtp/address_gate.h"

#include <algorithm>
#include <utility>

namespace mailtls::smtp {
namespace {

constexpr auto kWaitStep = std::chrono::seconds(1);

}  // namespace

AddressGate::AddressGate(PolitenessSettings settings) : settings_(settings) {}

AddressGate::Pass::Pass(Pass&& other) noexcept
    : gate_(std::exchange(other.gate_, nullptr)), address_(std::move(other.address_)) {}

AddressGate::Pass& AddressGate::Pass::operator=(Pass&& other) noexcept {
  if (this != &other) {
    release();
    gate_ = std::exchange(other.gate_, nullptr);
    address_ = std::move(other.address_);
  }
  return *this;
}

AddressGate::Pass::~Pass() { release(); }

void AddressGate::Pass::release() {
  if (gate_) std::exchange(gate_, nullptr)->leave(address_);
}

AddressGate::Pass AddressGate::enter(const std::string& address, Deadline deadline) {
  using Clock = std::chrono::steady_clock;
  std::unique_lock lock(mu_);
  bool admitted = false;
  for (;;) {
    auto& s = addresses_[address];
    const auto now = Clock::now();
    const bool slot = settings_.max_sessions == 0 || s.open < settings_.max_sessions;
    if (slot && now >= s.next_start) {
      ++s.open;
      s.next_start = now + settings_.min_gap;
      admitted = true;
      break;
    }
    if (now >= deadline.at()) break;
    // Woken by a session that ends, or when the gap has run out (or the deadline comes).
    // (In steps, so that a far-away deadline never overflows the wait.)
    const auto until = std::min(slot ? std::min(s.next_start, deadline.at()) : deadline.at(),
                                now + kWaitStep);
    changed_.wait_until(lock, until);
  }
  lock.unlock();
  if (!admitted) return Pass();
  return Pass(this, address);
}

void AddressGate::leave(const std::string& address) {
  std::lock_guard lock(mu_);
  auto it = addresses_.find(address);
  if (it != addresses_.end()) {
    if (it->second.open > 0) --it->second.open;
    // Forget addresses with nothing open whose gap has run out: the map stays the size of
    // what is in use.
    const auto now = std::chrono::steady_clock::now();
    std::erase_if(addresses_, [now](const auto& kv) {
      return kv.second.open == 0 && kv.second.next_start <= now;
    });
  }
  changed_.notify_all();
}

std::size_t AddressGate::tracked_addresses() const {
  std::lock_guard lock(mu_);
  return addresses_.size();
}

}  // namespace mailtls::smtp
