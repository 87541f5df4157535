#include "probes/mtasts/sender_cache_model.h"

#include <algorithm>

#include "probes/mtasts/mx_pattern.h"

namespace mailtls::mtasts {
namespace {

ServedPolicy* find_served(std::vector<ServedPolicy>& served, std::string_view body) {
  for (auto& p : served) {
    if (p.body_sha256 == body) return &p;
  }
  return nullptr;
}

// Records what this probe saw in the history: the policy served now, and the end of the one
// served before when it changed or went away.
void remember(SenderCacheHistory& h, const SenderCacheObservation& o, SystemTime now) {
  if (o.availability == PolicyAvailability::kLookupFailed) return;
  const std::string body = o.availability == PolicyAvailability::kServed ? o.policy.body_sha256 : "";
  if (!h.served_now.empty() && h.served_now != body) {
    // It may have been fetched up to just before this probe.
    if (auto* before = find_served(h.served, h.served_now)) before->last_served = now;
  }
  h.served_now = body;
  if (body.empty()) return;
  ServedPolicy* p = find_served(h.served, body);
  if (!p) {
    ServedPolicy fresh = o.policy;
    fresh.first_served = now;
    h.served.push_back(std::move(fresh));
    p = &h.served.back();
  }
  p->mode = o.policy.mode;
  p->max_age = o.policy.max_age;
  p->mx_patterns = o.policy.mx_patterns;
  p->last_served = now;
}

// Drops what no sender can hold any more, keeps the most recently served first-in-last-out.
void prune(SenderCacheHistory& h, SystemTime now) {
  std::erase_if(h.served, [&](const ServedPolicy& p) {
    return p.cacheable_until() <= now && p.body_sha256 != h.served_now;
  });
  std::stable_sort(h.served.begin(), h.served.end(), [](const ServedPolicy& x, const ServedPolicy& y) {
    return x.last_served < y.last_served;
  });
  if (h.served.size() > kMaxRememberedPolicies) {
    h.served.erase(h.served.begin(),
                   h.served.begin() + static_cast<std::ptrdiff_t>(h.served.size() - kMaxRememberedPolicies));
  }
}

std::vector<CachedMxCoverage> cached_coverage(const SenderCacheHistory& h,
                                              const std::vector<std::string>& mx_hosts) {
  std::vector<const ServedPolicy*> earlier;
  for (const auto& p : h.served) {
    if (p.mode == StsMode::kEnforce && p.body_sha256 != h.served_now) earlier.push_back(&p);
  }
  std::vector<CachedMxCoverage> out;
  if (earlier.empty()) return out;
  for (const auto& mx : mx_hosts) {
    CachedMxCoverage c{mx, true, std::nullopt};
    for (const auto* p : earlier) {
      const bool matched = std::any_of(p->mx_patterns.begin(), p->mx_patterns.end(),
                                       [&](const std::string& pat) { return mx_pattern_matches(pat, mx); });
      if (matched) continue;
      c.covered = false;
      if (!c.refused_until || *c.refused_until < p->cacheable_until()) c.refused_until = p->cacheable_until();
    }
    out.push_back(std::move(c));
  }
  return out;
}

}  // namespace

std::string_view to_string(SenderCacheStatus s) {
  switch (s) {
    case SenderCacheStatus::kUnknown: return "unknown";
    case SenderCacheStatus::kNoEnforceCached: return "no_enforce_cached";
    case SenderCacheStatus::kEnforceCached: return "enforce_cached";
    case SenderCacheStatus::kMxNotCovered: return "mx_not_covered";
    case SenderCacheStatus::kWithdrawnWithoutNone: return "withdrawn_without_none";
    case SenderCacheStatus::kDowngraded: return "downgraded";
  }
  return "unknown";
}

const std::vector<std::string>& sender_cache_status_names() {
  static const std::vector<std::string> names = [] {
    std::vector<std::string> v;
    for (auto s : {SenderCacheStatus::kUnknown, SenderCacheStatus::kNoEnforceCached,
                   SenderCacheStatus::kEnforceCached, SenderCacheStatus::kMxNotCovered,
                   SenderCacheStatus::kWithdrawnWithoutNone, SenderCacheStatus::kDowngraded}) {
      v.emplace_back(to_string(s));
    }
    return v;
  }();
  return names;
}

SenderCacheAssessment model_sender_cache(const std::optional<SenderCacheHistory>& previous,
                                         const SenderCacheObservation& observed, SystemTime now) {
  SenderCacheAssessment a;
  const bool first_sight = !previous;
  SenderCacheHistory h = previous.value_or(SenderCacheHistory{now, {}, ""});
  remember(h, observed, now);
  prune(h, now);

  const ServedPolicy* last_enforce = nullptr;  // the most recently served enforce policy
  const ServedPolicy* last_none = nullptr;
  for (const auto& p : h.served) {
    if (p.mode == StsMode::kEnforce) {
      if (!a.enforce_expiry || *a.enforce_expiry < p.cacheable_until()) a.enforce_expiry = p.cacheable_until();
      if (!last_enforce || last_enforce->last_served <= p.last_served) last_enforce = &p;
    } else if (p.mode == StsMode::kNone) {
      if (!last_none || last_none->last_served <= p.last_served) last_none = &p;
    }
  }
  a.mx_coverage = cached_coverage(h, observed.mx_hosts);
  const bool withdrawn = observed.availability == PolicyAvailability::kTxtAbsent ||
                         observed.availability == PolicyAvailability::kUnreachable;
  const bool none_after_enforce =
      last_enforce && last_none && last_none->first_served >= last_enforce->last_served;
  const bool serving_enforce = observed.availability == PolicyAvailability::kServed &&
                               observed.policy.mode == StsMode::kEnforce;
  const auto until = [&] { return std::string(" until the cached enforce policy expires"); };

  if (withdrawn && last_enforce && !none_after_enforce) {
    a.status = SenderCacheStatus::kWithdrawnWithoutNone;
    a.reason = std::string(observed.availability == PolicyAvailability::kTxtAbsent
                               ? "the _mta-sts TXT record was removed"
                               : "the policy cannot be fetched") +
               " while an enforce policy is still cacheable and no mode: none was served first "
               "(RFC 8461 §8.3): senders keep enforcing it" + until();
  } else if (std::any_of(a.mx_coverage.begin(), a.mx_coverage.end(),
                         [](const CachedMxCoverage& c) { return !c.covered; })) {
    a.status = SenderCacheStatus::kMxNotCovered;
    a.reason = "an MX host is not covered by an enforce policy senders may still hold: they refuse it" + until();
  } else if (last_enforce && observed.availability == PolicyAvailability::kServed && !serving_enforce) {
    a.status = SenderCacheStatus::kDowngraded;
    a.reason = "the policy was downgraded from enforce to " + std::string(to_string(observed.policy.mode)) +
               ": senders holding the enforce policy still enforce it" + until();
  } else if (last_enforce) {
    a.status = SenderCacheStatus::kEnforceCached;
    a.reason = "senders may hold an enforce policy" + until();
  } else if (first_sight) {
    a.status = SenderCacheStatus::kUnknown;
    a.reason = "no history yet: policies served before cannot be known";
  } else {
    a.status = SenderCacheStatus::kNoEnforceCached;
    a.reason = "no enforce policy can be in senders' caches";
  }
  a.history = std::move(h);
  return a;
}

}  // namespace mailtls::mtasts
