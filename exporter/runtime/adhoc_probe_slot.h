#pragma once
// At most kMaxConcurrentAdhocProbes /probe requests probe at once; one beyond that is
// answered 429 at once.

#include <atomic>

namespace mailtls::exporter {

inline constexpr int kMaxConcurrentAdhocProbes = 4;

// One of the kMaxConcurrentAdhocProbes /probe slots, given back when it goes out of scope: a
// probe that throws frees its slot too (it used to keep it; after four, /probe answered 429
// for good).
class AdhocProbeSlot {
 public:
  explicit AdhocProbeSlot(std::atomic<int>& in_flight)
      : in_flight_(in_flight), held_(++in_flight <= kMaxConcurrentAdhocProbes) {}
  ~AdhocProbeSlot() { --in_flight_; }
  AdhocProbeSlot(const AdhocProbeSlot&) = delete;
  AdhocProbeSlot& operator=(const AdhocProbeSlot&) = delete;
  bool held() const { return held_; }

 private:
  std::atomic<int>& in_flight_;
  const bool held_;
};

}  // namespace mailtls::exporter
