#include "probes/base/deadline.h"

#include <algorithm>
#include <climits>

namespace mailtls {

Deadline Deadline::never() { return Deadline(Clock::time_point::max()); }

std::chrono::milliseconds Deadline::remaining() const {
  const auto now = Clock::now();
  if (now >= at_) return std::chrono::milliseconds(0);
  if (at_ == Clock::time_point::max()) return std::chrono::milliseconds(INT_MAX);
  return std::chrono::ceil<std::chrono::milliseconds>(at_ - now);
}

Deadline Deadline::capped(std::chrono::milliseconds d) const {
  const auto now = Clock::now();
  return Deadline(std::min(at_, now + d));
}

int Deadline::poll_timeout_ms() const {
  const auto left = remaining().count();
  return static_cast<int>(std::clamp<long long>(left, 0, INT_MAX));
}

}  // namespace mailtls
