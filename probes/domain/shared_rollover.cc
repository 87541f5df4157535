#include "probes/domain/shared_rollover.h"

#include <algorithm>

namespace mailtls::domain {
namespace {

// The time of the latest observation a view holds.
SystemTime observed_until(const dane::RolloverHistory& h) {
  SystemTime t = h.tracking_since;
  for (const auto& r : h.records) t = std::max(t, r.last_seen);
  for (const auto& k : h.keys) t = std::max(t, k.first_seen);
  return t;
}

std::optional<SystemTime> later(const std::optional<SystemTime>& x, const std::optional<SystemTime>& y) {
  if (!x) return y;
  if (!y) return x;
  return std::max(*x, *y);
}

}  // namespace

dane::RolloverHistory merge_rollover_views(const dane::RolloverHistory& a, const dane::RolloverHistory& b) {
  const bool a_newer = observed_until(a) > observed_until(b);
  const auto& older = a_newer ? b : a;
  dane::RolloverHistory h = a_newer ? a : b;
  h.tracking_since = std::min(a.tracking_since, b.tracking_since);
  h.too_fast_until = later(a.too_fast_until, b.too_fast_until);
  for (auto& r : h.records) {
    for (const auto& o : older.records) {
      if (o.record != r.record) continue;
      r.first_seen = std::min(r.first_seen, o.first_seen);
      r.last_in_use = later(r.last_in_use, o.last_in_use);
    }
  }
  for (const auto& o : older.keys) {
    auto it = std::find_if(h.keys.begin(), h.keys.end(), [&](const dane::PresentedKey& k) {
      return k.address == o.address && k.key_type == o.key_type;
    });
    if (it == h.keys.end()) {
      h.keys.push_back(o);
    } else if (it->spki_sha256 == o.spki_sha256) {
      it->first_seen = std::min(it->first_seen, o.first_seen);
    }
  }
  if (h.keys.size() > dane::kMaxRememberedKeys) {
    // As the tracker bounds them: the most recently first seen are kept.
    std::stable_sort(h.keys.begin(), h.keys.end(), [](const dane::PresentedKey& x, const dane::PresentedKey& y) {
      return x.first_seen > y.first_seen;
    });
    h.keys.resize(dane::kMaxRememberedKeys);
  }
  return h;
}

}  // namespace mailtls::domain
