#include "probes/dane/tlsa_usability.h"

#include <algorithm>
#include <map>
#include <utility>

namespace mailtls::dane {

std::string_view to_string(TlsaUnusableReason r) {
  switch (r) {
    case TlsaUnusableReason::kNone: return "usable";
    case TlsaUnusableReason::kPkixUsage: return "pkix_usage";
    case TlsaUnusableReason::kUnknownUsage: return "unknown_usage";
    case TlsaUnusableReason::kUnknownSelector: return "unknown_selector";
    case TlsaUnusableReason::kUnknownMatchingType: return "unknown_matching_type";
    case TlsaUnusableReason::kEmpty: return "empty";
    case TlsaUnusableReason::kBadDigestLength: return "bad_digest_length";
  }
  return "unknown";
}

TlsaUnusableReason tlsa_unusable_reason(const dns::TlsaRecord& r) {
  if (r.usage == 0 || r.usage == 1) return TlsaUnusableReason::kPkixUsage;
  if (r.usage != 2 && r.usage != 3) return TlsaUnusableReason::kUnknownUsage;
  if (r.selector > 1) return TlsaUnusableReason::kUnknownSelector;
  if (r.matching_type > 2) return TlsaUnusableReason::kUnknownMatchingType;
  if (r.data.empty()) return TlsaUnusableReason::kEmpty;
  if ((r.matching_type == 1 && r.data.size() != 32) || (r.matching_type == 2 && r.data.size() != 64)) {
    return TlsaUnusableReason::kBadDigestLength;
  }
  return TlsaUnusableReason::kNone;
}

std::vector<TlsaUsability> classify_tlsa_records(const std::vector<dns::TlsaRecord>& records) {
  std::vector<TlsaUsability> out(records.size());
  // The strongest digest (SHA2-512 over SHA2-256) per (usage, selector), among usable records
  // only: an unusable "3 1 2 abcd" must not shadow a good "3 1 1".
  std::map<std::pair<int, int>, int> strongest;
  for (size_t i = 0; i < records.size(); ++i) {
    out[i].unusable_reason = tlsa_unusable_reason(records[i]);
    out[i].usable = out[i].unusable_reason == TlsaUnusableReason::kNone;
    if (!out[i].usable || records[i].matching_type == 0) continue;
    int& s = strongest[{records[i].usage, records[i].selector}];
    s = std::max(s, static_cast<int>(records[i].matching_type));
  }
  for (size_t i = 0; i < records.size(); ++i) {
    if (!out[i].usable) continue;
    const auto& r = records[i];
    if (r.matching_type == 0) {
      out[i].counts = true;
      continue;
    }
    out[i].counts = strongest.at({r.usage, r.selector}) == r.matching_type;
  }
  return out;
}

int count_usable(const std::vector<TlsaUsability>& usability) {
  return static_cast<int>(std::count_if(usability.begin(), usability.end(),
                                        [](const TlsaUsability& u) { return u.usable; }));
}

}  // namespace mailtls::dane
