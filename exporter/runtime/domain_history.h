#pragma once
// The state-file form of a domain's history (probes/domain/domain_history.h): what the judge
// remembers is kept in the StateStore, and read back for the next probe, for /probe and for
// `check`. Only conversion: the judgement is probes/domain/judge.h. Sections and keys are those
// of earlier versions, so an existing state file loads as it is; a section or field that is
// missing, of the wrong type or damaged reads as no history for that part.

#include <nlohmann/json.hpp>

#include <optional>
#include <string>

#include "exporter/runtime/state_store.h"
#include "probes/base/clock.h"
#include "probes/domain/domain_history.h"

namespace mailtls::exporter {

// State sections. Per (domain, MX host) the key is "<domain> <mx host>", per MX host "<mx host>",
// per domain "<domain>".
inline constexpr const char* kTlsaSection = "tlsa_rrsets";            // F1, per (domain, MX host)
inline constexpr const char* kRolloverSection = "tlsa_rollover";      // T12, per (domain, MX host): read, migrated
inline constexpr const char* kMxRolloverSection = "tlsa_rollover_mx";  // T12, per MX host, shared
inline constexpr const char* kMtaStsSection = "mtasts_policies";      // F6, per domain
inline constexpr const char* kServedPoliciesSection = "mtasts_served";  // P7, per domain

// Everything the state holds about `domain`; empty when nothing (or a missing file). `now`
// stands in for change times an entry lacks. The rollover history of each MX host the domain
// had (its F1 entries) is the MX host's shared one, merged with what an older state file kept
// for this domain (probes/domain/shared_rollover.h: no first-seen time is lost).
domain::DomainHistory load_domain_history(const StateStore& state, const std::string& domain,
                                          SystemTime now);

// Makes the state hold exactly `history` for `domain`: entries of MX hosts it no longer has are
// erased, the others written (unchanged entries leave the file clean). A rollover history is
// merged into the MX host's shared one (concurrent probes of domains sharing it both count), the
// domain's entry of the older per-(domain, MX host) form is erased; a shared history the domain
// forgot is erased only when no domain has an F1 entry for that MX host any more (a domain that
// does not check DANE forgets it, the MX host's other domains still need it).
void store_domain_history(StateStore& state, const std::string& domain,
                          const domain::DomainHistory& history);

// The entries of the T12 and P7 sections, converted one by one (tests feed damaged ones).
std::optional<dane::RolloverHistory> rollover_from_json(const nlohmann::json& j);
nlohmann::json rollover_to_json(const dane::RolloverHistory& h);
std::optional<mtasts::SenderCacheHistory> served_from_json(const nlohmann::json& j);
nlohmann::json served_to_json(const mtasts::SenderCacheHistory& h);

}  // namespace mailtls::exporter
