#pragma once
// A DomainProber that returns a report built by a function, for exporter tests.

#include <atomic>
#include <functional>

#include "exporter/runtime/domain_prober.h"

namespace mailtls::testing {

// A report with one MX, two addresses, TLSA, MTA-STS and TLS-RPT, like a healthy DANE domain.
domain::DomainReport sample_report(const std::string& domain_name);

class ScriptedProber final : public exporter::DomainProber {
 public:
  using Script = std::function<domain::DomainReport(const exporter::DomainConfig&)>;
  explicit ScriptedProber(Script script) : script_(std::move(script)) {}
  domain::DomainReport probe(const exporter::DomainConfig& d) override {
    ++probes_;
    return script_(d);
  }
  std::optional<bool> resolver_validating() override { return true; }
  int probes() const { return probes_; }

 private:
  Script script_;
  std::atomic<int> probes_{0};
};

}  // namespace mailtls::testing
