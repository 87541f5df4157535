#include "probes/dane/renewal_mismatch.h"

namespace mailtls::dane {

bool renewed_after_tlsa_published(std::optional<SystemTime> tlsa_rrset_first_seen,
                                  SystemTime leaf_not_before, bool chain_matches) {
  if (chain_matches || !tlsa_rrset_first_seen) return false;
  return leaf_not_before > *tlsa_rrset_first_seen;
}

}  // namespace mailtls::dane
