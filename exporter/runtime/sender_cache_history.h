#pragma once
// The history of what senders may have cached, kept in the StateStore: per MX host the TLSA
// records with first-seen, last-seen and last-in-use times, the Original TTL and the key last
// presented per address and key type (rollover discipline, T12); per domain the MTA-STS policies
// it served with their last-served times (sender cache model, P7). The judgements themselves are
// the pure probes/dane/rollover_tracker.h and probes/mtasts/sender_cache_model.h; this file
// reads their history from the state document, fills the report and writes the new history.

#include "exporter/runtime/state_store.h"
#include "probes/base/clock.h"
#include "probes/domain/domain_report.h"

namespace mailtls::exporter {

// State sections (new in this version; a state file without them is read as "no history").
inline constexpr const char* kRolloverSection = "tlsa_rollover";  // key "<domain> <mx>"
inline constexpr const char* kServedPoliciesSection = "mtasts_served";  // key "<domain>"

// Fills MxReport::rollover_* and MtaStsReport's sender-cache fields from `state` and this
// report, and stores the updated history in `state`.
void apply_sender_cache_history(domain::DomainReport& report, StateStore& state, SystemTime now);

// Copies the entries apply_sender_cache_history() reads for `report` from `from` to `to`.
void copy_sender_cache_history(const domain::DomainReport& report, const StateStore& from,
                               StateStore& to);

}  // namespace mailtls::exporter
