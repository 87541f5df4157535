#pragma once
// The verdicts that need memory across probes, judged from a read-only history: F1 (a leaf
// renewed after its TLSA RRset appeared, without a match), F6 (the MTA-STS policy changed, its
// id did not), the rollover phase per MX host (T12, probes/dane/rollover_tracker.h) and what
// MTA-STS senders may still hold (P7, probes/mtasts/sender_cache_model.h). Pure: no network, no
// clock, no state file. Part of judge() (judge.h); what to remember is its return value.

#include <string>
#include <vector>

#include "probes/base/clock.h"
#include "probes/domain/domain_history.h"
#include "probes/domain/domain_report.h"

namespace mailtls::domain {

// Fills the history fields of `report` (MxReport::tlsa_rrset_digest, tlsa_rrset_first_seen,
// renewed_without_tlsa_update, rollover_*; MtaStsReport::id_last_change,
// changed_without_id_change and the sender-cache fields) from `history` and the observations in
// `report`, and returns the history to keep: `history` updated by this probe. A probe without a
// verdict (report.probe_success false) is not judged and changes nothing. Only a proven absence
// (no TLSA, insecure) ends an MX host's history; a failed lookup keeps it.
DomainHistory judge_history(DomainReport& report, const DomainHistory& history, SystemTime now);

// A stable digest of a TLSA RRset (order-independent): what identifies "this exact RRset".
std::string tlsa_rrset_digest(const std::vector<TlsaRecordReport>& records);

}  // namespace mailtls::domain
