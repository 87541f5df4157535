#pragma once
// Validated answers kept for their TTL in front of libunbound. libunbound caches validated
// RRsets itself, but asking it costs a round trip through its resolver thread (the query and
// the answer are serialised over a pipe, a query state is set up, the answer packet is built
// again): at TTL 300 s that hop was about an eighth of the CPU of a whole probe, and most of a
// hosting-shape domain's lookups (its MX hosts' A, AAAA and TLSA) are the same for thousands of
// domains. This cache answers those from memory.
//
// Only definitive answers are kept: data, nodata or nxdomain that validated as secure or are
// provably insecure. Errors, timeouts, bogus and indeterminate answers are never kept, so a
// failure is always asked again. An entry lives as long as libunbound would keep the records
// (the TTL it gave, which is already the remaining time of its own cache entry); a hit gives
// the remaining TTL. The cache belongs to one resolver, which a configuration reload replaces.
// Bounded: at most `max_entries`, the least recently used goes first. Thread-safe.

#include <chrono>
#include <cstddef>
#include <list>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>

#include "probes/dns/resolver.h"

namespace mailtls::dns {

class AnswerCache {
 public:
  using TimePoint = std::chrono::steady_clock::time_point;

  explicit AnswerCache(std::size_t max_entries);

  // The kept answer to (name, type) with its remaining TTL, or nothing when there is none or it
  // expired. `name` as given to Resolver::lookup (any case, trailing dot or not).
  std::optional<Answer> find(std::string_view name, RrType type, TimePoint now);
  // Keeps `a` (the answer to a.qname, a.type) for a.ttl seconds from `now`, when it is
  // definitive (see above).
  void store(const Answer& a, TimePoint now);

  // Whether an answer may be kept: data, nodata or nxdomain, secure or insecure, TTL > 0.
  static bool keepable(const Answer& a);

  std::size_t size() const;

 private:
  struct Entry {
    Answer answer;
    TimePoint expires;
    std::list<std::string>::iterator recency;  // position in lru_
  };
  static std::string key_of(std::string_view normalized_name, RrType type);

  const std::size_t max_entries_;
  mutable std::mutex mu_;
  std::unordered_map<std::string, Entry> entries_;
  std::list<std::string> lru_;  // keys, most recently used first
};

}  // namespace mailtls::dns
