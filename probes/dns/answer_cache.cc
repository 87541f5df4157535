#include "probes/dns/answer_cache.h"

#include <algorithm>

#include "probes/dns/ub_result_classification.h"

namespace mailtls::dns {

AnswerCache::AnswerCache(std::size_t max_entries) : max_entries_(std::max<std::size_t>(1, max_entries)) {}

std::string AnswerCache::key_of(std::string_view normalized_name, RrType type) {
  std::string key(normalized_name);
  key.push_back('/');
  key += std::to_string(static_cast<int>(type));
  return key;
}

bool AnswerCache::keepable(const Answer& a) {
  const bool definitive = a.outcome == Outcome::kData || a.outcome == Outcome::kNoData ||
                          a.outcome == Outcome::kNxDomain;
  const bool validated = a.security == Security::kSecure || a.security == Security::kInsecure;
  return definitive && validated && a.ttl > 0;
}

std::optional<Answer> AnswerCache::find(std::string_view name, RrType type, TimePoint now) {
  const std::string key = key_of(normalize_name(name), type);
  std::lock_guard lock(mu_);
  auto it = entries_.find(key);
  if (it == entries_.end()) return std::nullopt;
  Entry& e = it->second;
  if (now >= e.expires) {
    lru_.erase(e.recency);
    entries_.erase(it);
    return std::nullopt;
  }
  lru_.splice(lru_.begin(), lru_, e.recency);
  Answer a = e.answer;
  // Rounded up: a hit never reports 0 s left for an entry that has not expired.
  const auto left = std::chrono::ceil<std::chrono::seconds>(e.expires - now).count();
  a.ttl = static_cast<std::uint32_t>(std::min<long long>(left, a.ttl));
  return a;
}

void AnswerCache::store(const Answer& a, TimePoint now) {
  if (!keepable(a)) return;
  const std::string key = key_of(a.qname, a.type);
  const TimePoint expires = now + std::chrono::seconds(a.ttl);
  std::lock_guard lock(mu_);
  auto it = entries_.find(key);
  if (it != entries_.end()) {
    it->second.answer = a;
    it->second.expires = expires;
    lru_.splice(lru_.begin(), lru_, it->second.recency);
    return;
  }
  while (entries_.size() >= max_entries_ && !lru_.empty()) {
    entries_.erase(lru_.back());
    lru_.pop_back();
  }
  lru_.push_front(key);
  entries_.emplace(key, Entry{a, expires, lru_.begin()});
}

std::size_t AnswerCache::size() const {
  std::lock_guard lock(mu_);
  return entries_.size();
}

}  // namespace mailtls::dns
