#pragma once
// The TLSA rollover history (T12) describes an MX host, not a domain: the TLSA RRset at the MX
// host's TLSA base domain and the keys its addresses present (per key type). Every domain that
// uses the MX host sees the same, so one history is kept per MX host and shared. Two views of it
// meet when domains sharing the MX host are probed at the same time (each judged from the
// history it read and each commits what it judged), and when an older state file held one copy
// per (domain, MX host). Pure: no clock, no state file.

#include "probes/dane/rollover_tracker.h"

namespace mailtls::domain {

// One history from two views of the same MX host's. The view with the later observations (the
// latest last-seen, key first-seen or tracking start; `b` on a tie) gives the records of the
// RRset now and the key presented now at each address; from the other view it takes what makes
// the history older, never newer: the earlier tracking start, the earlier first-seen time of the
// same record and of the same key, the later last-in-use time of the same record, the keys of
// addresses (key types) the newer view has none for, and the later too-fast time. A first-seen
// time is what F1 and rollover safety rest on: a merge must never make a key or record look new.
dane::RolloverHistory merge_rollover_views(const dane::RolloverHistory& a, const dane::RolloverHistory& b);

}  // namespace mailtls::domain
