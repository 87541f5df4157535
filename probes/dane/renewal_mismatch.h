#pragma once
// F1 (docs/verdicts.md): the certificate was renewed with a new key and the TLSA records were not
// updated. The signature: the presented leaf does not match, and it was issued (not_before)
// after this exact TLSA RRset was first seen, so the RRset predates the certificate. The
// exporter persists the first-seen time of each RRset across restarts.

#include <optional>

#include "probes/base/clock.h"

namespace mailtls::dane {

// True when `chain_matches` is false and the leaf's not_before is later than the RRset's
// first-seen time. Without a first-seen time (never persisted) nothing can be said: false.
bool renewed_after_tlsa_published(std::optional<SystemTime> tlsa_rrset_first_seen,
                                  SystemTime leaf_not_before, bool chain_matches);

}  // namespace mailtls::dane
