#pragma once
// The MTA-STS policy file (RFC 8461 §3.2, docs/verdicts.md P5/P6): `key: value` lines, LF or
// CRLF (erratum 6253). Pure parsing of the fetched body; the fetch is policy_fetcher.h.
//
// Rules: version "STSv1", mode enforce|testing|none (case-sensitive), max_age 1-10 digits and at
// most 31557600, mx = ["*."] Domain in A-labels (repeatable; required unless mode is none).
// Unknown keys are ignored (their names must still follow the extension-name grammar: a BOM in
// front of "version" makes an invalid key). For a duplicated non-mx key the first one counts.
// Trailing whitespace on a line is allowed. Warnings (the policy stays valid): max_age below one
// day in enforce mode (P6), an mx with a trailing dot (not in the grammar; senders differ; it is
// accepted without the dot), duplicate keys, blank lines, mx patterns in mode none.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace mailtls::mtasts {

enum class StsMode { kEnforce, kTesting, kNone };
std::string_view to_string(StsMode m);  // "enforce", "testing", "none"

inline constexpr std::int64_t kMaxStsMaxAgeSeconds = 31557600;
inline constexpr std::int64_t kMinRecommendedMaxAgeSeconds = 86400;

struct StsPolicy {
  StsMode mode = StsMode::kNone;
  std::int64_t max_age_seconds = 0;
  std::vector<std::string> mx;  // patterns in file order, as written (a trailing dot removed)
};

// Why a policy is invalid. A closed set, usable as a metric label.
enum class StsPolicyError {
  kNone,
  kEmpty,          // no content at all
  kByteOrderMark,  // a UTF-8 BOM before the first key
  kBadLine,        // a line that is not `key: value`, a bad key name, or control characters
  kMissingVersion,
  kBadVersion,
  kMissingMode,
  kBadMode,
  kMissingMaxAge,
  kBadMaxAge,
  kMissingMx,  // no mx line while the mode is not none
  kBadMx,      // an mx value that is not ["*."] Domain in A-labels
};

// "none", "empty", "byte_order_mark", "bad_line", "missing_version", ...; stable, for labels.
std::string_view error_label(StsPolicyError e);

struct StsPolicyResult {
  StsPolicyError error = StsPolicyError::kNone;
  std::string message;                // why, when error != kNone (names the line)
  std::optional<StsPolicy> policy;    // set when valid()
  std::vector<std::string> warnings;  // SHOULD-level problems
  bool valid() const { return error == StsPolicyError::kNone; }
};

StsPolicyResult parse_sts_policy(std::string_view body);

}  // namespace mailtls::mtasts
