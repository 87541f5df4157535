#include "probes/mtasts/policy_history.h"

namespace mailtls::mtasts {

PolicyHistoryUpdate update_policy_history(const std::optional<PolicyHistoryRecord>& previous,
                                          std::string_view id, std::string_view body_sha256,
                                          SystemTime now) {
  PolicyHistoryUpdate u;
  if (!previous) {
    u.first_seen = true;
    u.record.id = std::string(id);
    u.record.body_sha256 = std::string(body_sha256);
    u.record.id_last_change_time = now;
    u.record.body_last_change_time = now;
    return u;
  }
  u.record = *previous;
  const bool body_known = !body_sha256.empty();
  const bool body_differs = body_known && body_sha256 != previous->body_sha256;
  if (id != previous->id) {
    u.id_changed = true;
    u.record.id = std::string(id);
    u.record.id_last_change_time = now;
    u.record.changed_without_id_change = false;
    u.id_changed_body_unchanged = body_known && !previous->body_sha256.empty() && !body_differs;
  } else if (body_differs && !previous->body_sha256.empty()) {
    u.record.changed_without_id_change = true;
  }
  if (body_differs) {
    u.body_changed = !previous->body_sha256.empty();
    u.record.body_sha256 = std::string(body_sha256);
    u.record.body_last_change_time = now;
  }
  u.changed_without_id_change = u.record.changed_without_id_change;
  return u;
}

}  // namespace mailtls::mtasts
