#include "probes/domain/judge.h"

#include "probes/domain/history_verdicts.h"

namespace mailtls::domain {

Judgement judge_with_history(DomainReport report, const DomainHistory& history, SystemTime now) {
  Judgement j;
  j.remember = judge_history(report, history, now);
  make_printable(report);
  j.verdict = std::move(report);
  return j;
}

}  // namespace mailtls::domain
