#include "probes/domain/no_verdict.h"

#include "probes/domain/policy_checks.h"
#include "probes/domain/resolver_outage.h"

namespace mailtls::domain {

std::string_view to_string(NoVerdictReason reason) {
  switch (reason) {
    case NoVerdictReason::kTimeout:
      return "timeout";
    case NoVerdictReason::kResolverUnreachable:
      return "resolver_unreachable";
    case NoVerdictReason::kResolverNotValidating:
      return "resolver_not_validating";
  }
  return "timeout";
}

std::string_view not_checked_status(NoVerdictReason reason) {
  switch (reason) {
    case NoVerdictReason::kTimeout:
      return kNotCheckedTimeout;
    case NoVerdictReason::kResolverUnreachable:
      return kNotCheckedResolverUnreachable;
    case NoVerdictReason::kResolverNotValidating:
      return kNotCheckedResolverNotValidating;
  }
  return kNotCheckedTimeout;
}

std::string_view to_string(const DaneVerdict& verdict) {
  if (const auto* reason = std::get_if<NoVerdictReason>(&verdict)) return not_checked_status(*reason);
  return dane::to_string(std::get<dane::DaneStatus>(verdict));
}

std::string_view to_string(const MtaStsVerdict& verdict) {
  if (const auto* reason = std::get_if<NoVerdictReason>(&verdict)) return not_checked_status(*reason);
  return mtasts::to_string(std::get<mtasts::MtaStsStatus>(verdict));
}

void mark_no_verdict(DomainReport& r, NoVerdictReason reason, std::string error) {
  const std::string status(not_checked_status(reason));
  r.probe_success = false;
  r.probe_error = std::move(error);
  r.no_verdict = reason;
  r.dane_status = reason;
  switch (reason) {
    case NoVerdictReason::kTimeout:
      // MTA-STS and TLS-RPT were judged part by part: what finished keeps its verdict, what
      // did not says "not checked: timeout" already (policy_checks.h).
      return;
    case NoVerdictReason::kResolverNotValidating:
      for (auto& s : r.rrsets) {
        if (s.security != dns::Security::kIndeterminate) {
          s.reason = "not validated, the resolver said " + std::string(dns::to_string(s.security)) +
                     (s.reason.empty() ? "" : " (" + s.reason + ")");
        }
        s.security = dns::Security::kIndeterminate;
        s.rrsig_expiry.reset();
      }
      break;
    case NoVerdictReason::kResolverUnreachable:
      break;
  }
  if (r.mtasts.checked) r.mtasts.status = reason;
  if (r.tlsrpt.checked) r.tlsrpt.error = status;
}

std::optional<NoVerdictReason> judge_resolver_faults(DomainReport& r,
                                                     const ResolverObservation& resolver) {
  if (const auto& reach = resolver.reachability) {
    if (reach->answers) {
      r.log.push_back("the resolver answers (" + reach->detail +
                      "): the failed lookups are the domain's");
    } else {
      mark_no_verdict(r, NoVerdictReason::kResolverUnreachable,
                      "resolver unreachable: " + reach->detail);
      r.log.push_back("the resolver does not answer (" + reach->detail +
                      "): no verdict, the failed lookups are the monitor's fault, not the domain's");
      return NoVerdictReason::kResolverUnreachable;
    }
  }
  const auto& self_test = resolver.self_test;
  switch (self_test.validation) {
    case ResolverValidation::kValidating:
      return std::nullopt;
    case ResolverValidation::kNotTested:
      r.log.push_back(
          "the resolver's first DNSSEC self-test has not finished yet: "
          "DNSSEC-dependent verdicts are not confirmed");
      return std::nullopt;
    case ResolverValidation::kNotValidating:
      break;
  }
  mark_no_verdict(r, NoVerdictReason::kResolverNotValidating,
                  "resolver not validating: " + self_test.reason);
  r.log.push_back("the resolver's DNSSEC self-test fails (" + self_test.reason +
                  "): no verdict, DNSSEC-dependent results (DANE, MTA-STS, DNSSEC states) are "
                  "the monitor's fault, not the domain's");
  return NoVerdictReason::kResolverNotValidating;
}

}  // namespace mailtls::domain
