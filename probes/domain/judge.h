#pragma once
// The verdict engine: observe -> judge -> render (docs/architecture.md). One pure function turns
// what a probe observed, the state of the monitor's own resolver, a read-only view of the
// domain's history and the time into the domain's verdict (DomainReport) and the history to
// remember. No network, no clock, no state file, no Prometheus or HTTP: every entry point (the
// scheduler, /probe, `check`) calls it, so for the same observations and history they show the
// same verdicts.

#include "probes/base/clock.h"
#include "probes/domain/domain_history.h"
#include "probes/domain/domain_report.h"

namespace mailtls::domain {

struct Judgement {
  DomainReport verdict;
  // The history after this probe. The scheduler stores it for complete probes; /probe and
  // `check` judge with the server's history read-only and drop it.
  DomainHistory remember;
};

// The last steps of judge(), for a report whose observations are judged already (a scripted
// prober in tests): the verdicts that need history (history_verdicts.h), then every text made
// printable once (make_printable).
Judgement judge_with_history(DomainReport report, const DomainHistory& history, SystemTime now);

}  // namespace mailtls::domain
