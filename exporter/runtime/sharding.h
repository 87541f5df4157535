#pragma once
// Splits the configured domains between N replicas (a Kubernetes StatefulSet) by rendezvous
// (highest random weight) hashing: every domain belongs to exactly one shard, and changing
// the replica count from N to N+1 moves only about 1/(N+1) of the domains.

#include <cstdint>
#include <optional>
#include <string>

namespace mailtls::exporter {

struct Sharding {
  int count = 1;
  int index = 0;
};

// The shard that owns `domain` among `count` shards. Stable across builds and machines.
int shard_of(const std::string& domain, int count);
inline bool owns(const Sharding& s, const std::string& domain) {
  return s.count <= 1 || shard_of(domain, s.count) == s.index;
}

// --shard.index value: a number, or "auto" to take the ordinal from a StatefulSet host name
// ("mailtls-exporter-3" -> 3).
std::optional<int> parse_shard_index(const std::string& value, const std::string& hostname,
                                     std::string* error);

}  // namespace mailtls::exporter
