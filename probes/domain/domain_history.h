#pragma once
// What the judge remembers about one domain across probes (and restarts), as typed values: per
// MX host the exact TLSA RRset and when it was first seen (F1) and the rollover sightings (T12);
// for the domain the MTA-STS (id, content hash) history (F6) and the policies it served (P7).
// The judge (judge.h) reads a DomainHistory and returns the next one; the exporter stores it
// (exporter/runtime/domain_history.h converts it to and from the state file). No JSON here.

#include <map>
#include <optional>
#include <string>

#include "probes/base/clock.h"
#include "probes/dane/rollover_tracker.h"
#include "probes/mtasts/policy_history.h"
#include "probes/mtasts/sender_cache_model.h"

namespace mailtls::domain {

// The TLSA RRset an MX host publishes, identified by its digest (tlsa_rrset_digest()), and when
// this exact RRset was first seen.
struct TlsaRrsetSighting {
  std::string digest;
  SystemTime first_seen{};
  bool operator==(const TlsaRrsetSighting&) const = default;
};

struct MxHistory {
  std::optional<TlsaRrsetSighting> tlsa_rrset;    // F1
  std::optional<dane::RolloverHistory> rollover;  // T12
  bool empty() const { return !tlsa_rrset && !rollover; }
  bool operator==(const MxHistory&) const = default;
};

struct DomainHistory {
  std::map<std::string, MxHistory> mx;  // by MX host name, as in MxReport::host
  std::optional<mtasts::PolicyHistoryRecord> mtasts_policy;       // F6
  std::optional<mtasts::SenderCacheHistory> served_policies;      // P7
  bool operator==(const DomainHistory&) const = default;
};

}  // namespace mailtls::domain
