#pragma once
// Matching MX host names against a policy's `mx:` patterns (RFC 8461 §4.1, docs/verdicts.md P8):
// RFC 6125 rules, case-insensitive (ASCII), a trailing root dot ignored on either side; "*" only
// as the whole left-most label of a pattern, matching exactly one non-empty label. So
// "*.example.com" matches "mail.example.com" but neither "example.com" nor "a.b.example.com".

#include <string>
#include <string_view>
#include <vector>

namespace mailtls::mtasts {

bool mx_pattern_matches(std::string_view pattern, std::string_view mx_host);

struct MxCoverage {
  std::string mx_host;          // as given
  bool covered = false;         // some pattern matches it
  std::string matched_pattern;  // the first pattern that matches; empty when not covered
};

// One entry per MX host, in the given order.
std::vector<MxCoverage> check_mx_coverage(const std::vector<std::string>& patterns,
                                          const std::vector<std::string>& mx_hosts);

}  // namespace mailtls::mtasts
