#pragma once
// A DomainProber that returns a report built by a function, judged with the history it is given
// (domain::judge_with_history), for exporter tests.

#include <atomic>
#include <filesystem>
#include <functional>

#include "exporter/runtime/domain_prober.h"
#include "exporter/runtime/state_store.h"

namespace mailtls::testing {

// A report with one MX, two addresses, TLSA, MTA-STS and TLS-RPT, like a healthy DANE domain.
domain::DomainReport sample_report(const std::string& domain_name);

// The history verdicts of `r` from `state` at `now`, and the history to remember stored back
// (what probe_and_judge() does for the scheduler); the read-only form leaves `state` alone.
void apply_history(domain::DomainReport& r, exporter::StateStore& state, SystemTime now);
void apply_history_read_only(domain::DomainReport& r, const exporter::StateStore& state,
                             SystemTime now);

// A new directory under the test's temp directory (named after `name` and the pid) holding a copy
// of tests/data/state/state-v1.json, a state file in the current format, as its state.json.
std::filesystem::path state_v1_dir(const std::string& name);

class ScriptedProber final : public exporter::DomainProber {
 public:
  using Script = std::function<domain::DomainReport(const exporter::DomainConfig&)>;
  explicit ScriptedProber(Script script) : script_(std::move(script)) {}
  domain::Judgement probe(const exporter::DomainConfig& d,
                          const domain::DomainHistory& history) override {
    ++probes_;
    return domain::judge_with_history(script_(d), history, std::chrono::system_clock::now());
  }
  std::optional<bool> resolver_validating() override { return true; }
  int probes() const { return probes_; }

 private:
  Script script_;
  std::atomic<int> probes_{0};
};

}  // namespace mailtls::testing
