#pragma once
// Change tracking of a domain's MTA-STS policy (RFC 8461 §3.1/§8.1, docs/verdicts.md P3, F6):
// senders refetch the policy only when the TXT id changes, so a body that changes under the same
// id stays invisible to caching senders for up to max_age. Pure logic; the exporter persists the
// record between probes and restarts.
//
// Rules:
//  - First sight: the record starts with both change times = now, no flags.
//  - id changed: id_last_change_time = now; changed_without_id_change is cleared (senders
//    refetch). If the body hash is known and equal to the stored one, id_changed_body_unchanged
//    is raised (INFO; or the HTTPS policy was not updated before the TXT record, P3).
//  - Same id, body hash known and different: body_last_change_time = now and
//    changed_without_id_change is raised (F6/B11) and stays raised on later probes until the id
//    changes, even when the body is stable again.
//  - An empty current hash (the fetch failed) leaves the body fields as they were.

#include <optional>
#include <string>
#include <string_view>

#include "probes/base/clock.h"

namespace mailtls::mtasts {

struct PolicyHistoryRecord {
  std::string id;
  std::string body_sha256;  // lower-case hex; empty while no body was ever fetched
  SystemTime id_last_change_time{};
  SystemTime body_last_change_time{};
  bool changed_without_id_change = false;  // persisted: raised until the id changes
  bool operator==(const PolicyHistoryRecord&) const = default;
};

struct PolicyHistoryUpdate {
  PolicyHistoryRecord record;              // what to store
  bool first_seen = false;                 // there was no previous record
  bool id_changed = false;                 // this probe saw a new id
  bool body_changed = false;               // this probe saw a new body hash
  bool changed_without_id_change = false;  // == record.changed_without_id_change
  bool id_changed_body_unchanged = false;  // new id, same body (INFO / update-order WARN)
};

PolicyHistoryUpdate update_policy_history(const std::optional<PolicyHistoryRecord>& previous,
                                          std::string_view id, std::string_view body_sha256,
                                          SystemTime now);

}  // namespace mailtls::mtasts
