#include "probes/mtasts/mtasts_assessment.h"

#include "probes/mtasts/mx_pattern.h"

namespace mailtls::mtasts {
namespace {

MtaStsAssessment with(MtaStsAssessment a, MtaStsStatus s, std::string reason) {
  a.status = s;
  a.reason = std::move(reason);
  return a;
}

}  // namespace

std::string_view to_string(MtaStsStatus s) {
  switch (s) {
    case MtaStsStatus::kEnforced: return "enforced";
    case MtaStsStatus::kTesting: return "testing";
    case MtaStsStatus::kDegraded: return "degraded";
    case MtaStsStatus::kBroken: return "broken";
    case MtaStsStatus::kNotDeployed: return "not_deployed";
    case MtaStsStatus::kInvalid: return "invalid";
  }
  return "invalid";
}

std::string_view to_string(MxStsProblem p) {
  switch (p) {
    case MxStsProblem::kNotCovered: return "not_covered";
    case MxStsProblem::kStarttlsFailed: return "starttls_failed";
    case MxStsProblem::kWebPkiInvalid: return "webpki_invalid";
  }
  return "not_covered";
}

MtaStsAssessment assess_mtasts(const MtaStsProbeResult& probe, const std::vector<MxTransport>& mx) {
  MtaStsAssessment a;
  const StsTxtLookup& txt = probe.txt;
  a.warnings = txt.txt.warnings;
  if (probe.fetch) {
    a.warnings.insert(a.warnings.end(), probe.fetch->warnings.begin(), probe.fetch->warnings.end());
  }
  if (probe.policy) {
    a.warnings.insert(a.warnings.end(), probe.policy->warnings.begin(), probe.policy->warnings.end());
  }

  if (txt.lookup_failed) return with(std::move(a), MtaStsStatus::kBroken, txt.lookup_error);
  if (txt.txt.error == StsTxtError::kNoRecord) {
    return with(std::move(a), MtaStsStatus::kNotDeployed, txt.txt.message);
  }
  if (!txt.txt.valid()) {
    return with(std::move(a), MtaStsStatus::kInvalid,
                "TXT record " + std::string(error_label(txt.txt.error)) + ": " + txt.txt.message);
  }
  if (!probe.fetch || !probe.fetch->ok) {
    return with(std::move(a), MtaStsStatus::kBroken,
                probe.fetch ? "policy fetch failed (" + std::string(to_string(probe.fetch->failure)) +
                                  "): " + probe.fetch->message
                            : std::string("policy not fetched"));
  }
  if (!probe.policy || !probe.policy->valid() || !probe.policy->policy) {
    return with(std::move(a), MtaStsStatus::kInvalid,
                probe.policy ? "policy " + std::string(error_label(probe.policy->error)) + ": " +
                                   probe.policy->message
                             : std::string("policy not parsed"));
  }

  const StsPolicy& policy = *probe.policy->policy;
  a.mode = policy.mode;
  std::vector<std::string> names;
  names.reserve(mx.size());
  for (const auto& m : mx) names.push_back(m.name);
  const auto coverage = check_mx_coverage(policy.mx, names);
  int passing = 0;
  for (std::size_t i = 0; i < mx.size(); ++i) {
    MxStsAssessment m;
    m.name = mx[i].name;
    m.covered = coverage[i].covered;
    m.matched_pattern = coverage[i].matched_pattern;
    if (!m.covered) m.problems.push_back(MxStsProblem::kNotCovered);
    if (!mx[i].starttls_ok) m.problems.push_back(MxStsProblem::kStarttlsFailed);
    if (!mx[i].webpki_valid) m.problems.push_back(MxStsProblem::kWebPkiInvalid);
    m.passes = m.problems.empty();
    passing += m.passes ? 1 : 0;
    a.mx.push_back(std::move(m));
  }
  const int total = static_cast<int>(mx.size());
  const std::string tally =
      std::to_string(passing) + " of " + std::to_string(total) + " MX hosts pass the policy";

  switch (policy.mode) {
    case StsMode::kNone:
      return with(std::move(a), MtaStsStatus::kNotDeployed,
                  "mode none: senders apply no policy");
    case StsMode::kTesting:
      return with(std::move(a), MtaStsStatus::kTesting, "mode testing; " + tally);
    case StsMode::kEnforce:
      break;
  }
  if (total == 0) return with(std::move(a), MtaStsStatus::kEnforced, "mode enforce; no MX hosts to check");
  if (passing == total) return with(std::move(a), MtaStsStatus::kEnforced, "mode enforce; " + tally);
  if (passing == 0) {
    return with(std::move(a), MtaStsStatus::kBroken,
                "mode enforce and no MX host passes: compliant senders cannot deliver");
  }
  return with(std::move(a), MtaStsStatus::kDegraded, "mode enforce; " + tally);
}

}  // namespace mailtls::mtasts
