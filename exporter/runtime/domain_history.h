#pragma once
// The parts of a verdict that need memory across probes and restarts, kept in the StateStore:
// when each exact TLSA RRset was first seen (F1: a certificate newer than its TLSA records),
// and each domain's MTA-STS (id, content hash) history (F6: content changed, id did not).

#include "exporter/runtime/state_store.h"
#include "probes/base/clock.h"
#include "probes/domain/domain_report.h"

namespace mailtls::exporter {

// Reads and updates the history for `report` and fills its history fields:
// MxReport::tlsa_rrset_first_seen, renewed_without_tlsa_update, MtaStsReport::id_last_change
// and changed_without_id_change.
void apply_history(domain::DomainReport& report, StateStore& state, SystemTime now);

// The same judgement from a read-only view of the history (`/probe`, `check`): the report gets
// the history fields the server would give it for the same observations, and `state` is not
// changed (what this probe would add to the history is dropped).
void apply_history_read_only(domain::DomainReport& report, const StateStore& state, SystemTime now);

// A stable digest of a TLSA RRset (order-independent).
std::string tlsa_rrset_digest(const std::vector<domain::TlsaRecordReport>& records);

}  // namespace mailtls::exporter
