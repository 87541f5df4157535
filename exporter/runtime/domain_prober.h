#pragma once
// The seam between the exporter and the probe library: something that observes one domain and
// judges what it saw with the domain's history (probes/domain/judge.h). The real one
// (real_domain_prober.h) uses libunbound, SMTP and HTTPS; tests give a scripted one. Entry points
// call it through probe_and_judge() (judged_probe.h), which reads and stores the history.

#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "exporter/config/config.h"
#include "probes/domain/domain_report.h"
#include "probes/domain/judge.h"
#include "probes/domain/no_verdict.h"
#include "probes/smtp/observation_cache.h"

namespace mailtls::exporter {

class DomainProber {
 public:
  virtual ~DomainProber() = default;
  // The verdict and the history to remember. Thread-safe; bounded by domain.timeout.
  virtual domain::Judgement probe(const DomainConfig& domain, const domain::DomainHistory& history) = 0;
  // The resolver's DNSSEC self-test (empty: not known yet).
  virtual std::optional<bool> resolver_validating() { return std::nullopt; }
  // The same with the self-test's reason, for `check` (its JSON carries it).
  virtual domain::ResolverSelfTestState resolver_self_test() {
    const auto v = resolver_validating();
    domain::ResolverSelfTestState s;
    if (v) {
      s.validation =
          *v ? domain::ResolverValidation::kValidating : domain::ResolverValidation::kNotValidating;
    }
    return s;
  }
  // SMTP sessions opened and STARTTLS observations reused (null: not counted).
  virtual std::shared_ptr<const smtp::SmtpSessionCounter> smtp_sessions() const { return nullptr; }
};

// Builds the prober for a configuration (resolver, trust anchors, SMTP and TLS settings).
// Returns nullptr with a reason when the configuration cannot be put to work.
using DomainProberFactory =
    std::function<std::shared_ptr<DomainProber>(const Config& config, std::string* error)>;

}  // namespace mailtls::exporter
