#pragma once
// The one path every entry point takes to a verdict (the scheduler's Exporter::run_probe,
// /probe, `check`): the domain's history from the state, the prober's observe + judge, and for
// the scheduler's complete probes the history to remember written back.

#include "exporter/runtime/domain_prober.h"
#include "exporter/runtime/state_store.h"

namespace mailtls::exporter {

enum class HistoryUse {
  kCommit,    // the scheduler: a complete probe's Judgement::remember is stored
  kReadOnly,  // /probe, `check`: judged with the history, which is not changed
};

// `state` null: no history (a fresh server's first probe judges the same way).
domain::DomainReport probe_and_judge(DomainProber& prober, const DomainConfig& domain,
                                     StateStore* state, HistoryUse use);

}  // namespace mailtls::exporter
