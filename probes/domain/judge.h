#pragma once
// The verdict engine: observe -> judge -> render (docs/architecture.md). One pure function turns
// what a probe observed, the state of the monitor's own resolver, a read-only view of the
// domain's history and the time into the domain's verdict (DomainReport) and the history to
// remember. No network, no clock, no state file, no Prometheus or HTTP: every entry point (the
// scheduler, /probe, `check`) calls it, so for the same observations and history they show the
// same verdicts.

#include "probes/base/clock.h"
#include "probes/domain/domain_history.h"
#include "probes/domain/domain_observation.h"
#include "probes/domain/domain_report.h"
#include "probes/domain/no_verdict.h"

namespace mailtls::domain {

struct Judgement {
  DomainReport verdict;
  // The history after this probe. The scheduler stores it for complete probes; /probe and
  // `check` judge with the server's history read-only and drop it.
  DomainHistory remember;
};

// The judge, in this order: the verdicts of the observations (DANE, MTA-STS, TLS-RPT, the
// timeout rule), the monitor's resolver faults (no_verdict.h), the verdicts that need history
// (F1, F6, T12, P7: history_verdicts.h), and every text made printable, once.
Judgement judge(const DomainObservation& observation, const ResolverObservation& resolver,
                const DomainHistory& history, SystemTime now);

// The first step alone: the report of what was observed, with its verdicts and log, before the
// resolver rule and the history.
DomainReport judge_observation(const DomainObservation& observation, SystemTime now);

// The last steps of judge(), for a report whose observations are judged already (a scripted
// prober in tests): the verdicts that need history (history_verdicts.h), then every text made
// printable once (make_printable).
Judgement judge_with_history(DomainReport report, const DomainHistory& history, SystemTime now);

}  // namespace mailtls::domain
