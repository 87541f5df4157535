#include "exporter/runtime/sharding.h"

#include <charconv>

namespace mailtls::exporter {
namespace {

// FNV-1a over the bytes, then splitmix64 to spread the bits: cheap, stable, well mixed.
std::uint64_t weight(const std::string& domain, int shard) {
  std::uint64_t h = 14695981039346656037ull;
  auto feed = [&h](unsigned char c) {
    h ^= c;
    h *= 1099511628211ull;
  };
  for (unsigned char c : domain) feed(c);
  feed(0);
  for (int i = 0; i < 4; ++i) feed(static_cast<unsigned char>((shard >> (8 * i)) & 0xff));
  h += 0x9e3779b97f4a7c15ull;
  h = (h ^ (h >> 30)) * 0xbf58476d1ce4e5b9ull;
  h = (h ^ (h >> 27)) * 0x94d049bb133111ebull;
  return h ^ (h >> 31);
}

}  // namespace

int shard_of(const std::string& domain, int count) {
  int best = 0;
  std::uint64_t best_weight = 0;
  for (int i = 0; i < count; ++i) {
    const auto w = weight(domain, i);
    if (i == 0 || w > best_weight) {
      best = i;
      best_weight = w;
    }
  }
  return best;
}

std::optional<int> parse_shard_index(const std::string& value, const std::string& hostname,
                                     std::string* error) {
  std::string digits = value;
  if (value == "auto") {
    auto dash = hostname.rfind('-');
    if (dash == std::string::npos || dash + 1 >= hostname.size()) {
      if (error) *error = "--shard.index=auto needs a StatefulSet host name ending in -<ordinal>, got \"" + hostname + "\"";
      return std::nullopt;
    }
    digits = hostname.substr(dash + 1);
  }
  int index = 0;
  auto [p, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), index);
  if (digits.empty() || ec != std::errc() || p != digits.data() + digits.size() || index < 0) {
    if (error) *error = "invalid shard index \"" + digits + "\"";
    return std::nullopt;
  }
  return index;
}

}  // namespace mailtls::exporter
