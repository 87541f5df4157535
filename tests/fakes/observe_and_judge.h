#pragma once
// observe_domain() then judge(), as the exporter runs them for a domain without history, with
// the test's resolver taken as validating (its answers are scripted): what a unit test of the
// whole probe checks.

#include <string>

#include "probes/domain/judge.h"
#include "probes/domain/observe.h"

namespace mailtls::testing {

inline domain::DomainReport observe_and_judge(const std::string& name,
                                              const domain::DomainProbeSettings& settings,
                                              const domain::DomainProbeSeams& seams) {
  const auto observed = domain::observe_domain(name, settings, seams);
  const domain::ResolverObservation resolver{
      {domain::ResolverValidation::kValidating, "the test's resolver"}, std::nullopt};
  return domain::judge(observed, resolver, {}, seams.clock.now()).verdict;
}

}  // namespace mailtls::testing
