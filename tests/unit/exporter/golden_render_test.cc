// Golden tests of the renderers: what users scrape and read (/metrics, /probe, `check` text
// and JSON) for hand-built reports, compared byte for byte with files under
// tests/data/golden/. A difference fails the test. When a change of the output is deliberate,
// regenerate the files and review the diff before committing it:
//   MAILTLS_GOLDEN_UPDATE=1 ctest --test-dir build -R GoldenRender
//   git diff tests/data/golden/

#include <gtest/gtest.h>

#include <cstdlib>
#include <fstream>
#include <sstream>
#include <string>

#include "exporter/cli/check_report.h"
#include "exporter/exposition/domain_metrics.h"
#include "exporter/exposition/handshake_histograms.h"
#include "exporter/runtime/probe_response.h"
#include "exporter/exposition/probe_results_collector.h"
#include "tests/unit/exporter/golden_reports.h"

namespace mailtls::exporter {
namespace {

using mailtls::testing::golden_now;
using mailtls::testing::golden_reports;

const std::string kGoldenDir = std::string(MAILTLS_SOURCE_DIR) + "/tests/data/golden/";

std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

// Compares `actual` with the golden file `name`; MAILTLS_GOLDEN_UPDATE=1 rewrites the file
// instead. What was rendered is also left in the build directory for a diff.
void expect_golden(const std::string& name, const std::string& actual) {
  const std::string path = kGoldenDir + name;
  const char* update = std::getenv("MAILTLS_GOLDEN_UPDATE");
  if (update && std::string(update) == "1") {
    std::ofstream(path, std::ios::binary) << actual;
    GTEST_SKIP() << "rewrote " << name << "; review `git diff tests/data/golden/`";
  }
  const std::string actual_path = std::string(MAILTLS_BINARY_DIR) + "/golden-actual-" + name;
  std::ofstream(actual_path, std::ios::binary) << actual;
  const std::string expected = read_file(path);
  ASSERT_FALSE(expected.empty()) << "missing golden file tests/data/golden/" << name;
  if (expected == actual) return;
  size_t at = 0;
  while (at < expected.size() && at < actual.size() && expected[at] == actual[at]) ++at;
  const size_t line = 1 + std::count(expected.begin(), expected.begin() + at, '\n');
  ADD_FAILURE() << "tests/data/golden/" << name << " differs from what was rendered ("
                << actual_path << ") from line " << line << " on; compare with\n  diff -u "
                << path << " " << actual_path
                << "\nIf the change is deliberate (and says so in docs/metrics.md where a metric "
                   "changes), regenerate with\n  MAILTLS_GOLDEN_UPDATE=1 ctest --test-dir build "
                   "-R GoldenRender\nand review `git diff tests/data/golden/`.";
}

const domain::ResolverSelfTestState kValidating{domain::ResolverValidation::kValidating,
                                                "signed.test A: secure data"};
const domain::ResolverSelfTestState kNotValidating{
    domain::ResolverValidation::kNotValidating,
    "known-signed name did not validate secure: signed.test A: bogus"};

// The probe results section of /metrics, stored as the scheduler stores each finished probe:
// a probe with a verdict replaces the domain's metrics, one without keeps the last verdicts.
std::string metrics_page(MetricsProfile profile, const std::vector<domain::DomainReport>& reports) {
  ProbeResultsCollector results;
  HandshakeHistograms handshakes;
  auto store = [&](const domain::DomainReport& r) {
    auto families = r.probe_success ? domain_metrics(r, profile) : incomplete_probe_metrics(r);
    if (profile == MetricsProfile::kFull) {
      if (auto h = handshakes.observe(r)) families.push_back(std::move(*h));
    }
    if (r.probe_success) {
      results.set(r.domain, families);
    } else {
      results.update(r.domain, families);
    }
  };
  store(mailtls::testing::golden_no_verdict_previous_report());
  for (const auto& r : reports) store(r);
  std::string text;
  results.append_text(text);
  return text;
}

TEST(GoldenRender, Metrics) {
  expect_golden("metrics.prom", metrics_page(MetricsProfile::kFull, golden_reports()));
}

// The same reports, and a healthy domain with one MX host, in the lean profile
// (metrics.profile: lean): healthy domains cut down, the others in detail, state sets with
// their current state only, no handshake histogram.
TEST(GoldenRender, MetricsLean) {
  auto reports = golden_reports();
  reports.push_back(mailtls::testing::golden_healthy_single_mx_report());
  expect_golden("metrics_lean.prom", metrics_page(MetricsProfile::kLean, reports));
}

TEST(GoldenRender, Probe) {
  std::string out;
  for (const auto& r : golden_reports()) {
    const auto response = probe_response(r, /*debug=*/false);
    out += "### /probe?target=" + r.domain + " -> " + std::to_string(response.status) + " " +
           response.content_type + "\n" + response.body;
  }
  expect_golden("probe.txt", out);
}

TEST(GoldenRender, ProbeLean) {
  std::string out;
  auto reports = golden_reports();
  reports.push_back(mailtls::testing::golden_healthy_single_mx_report());
  for (const auto& r : reports) {
    const auto response = probe_response(r, /*debug=*/false, MetricsProfile::kLean);
    out += "### /probe?target=" + r.domain + " (lean) -> " + std::to_string(response.status) + " " +
           response.content_type + "\n" + response.body;
  }
  expect_golden("probe_lean.txt", out);
}

TEST(GoldenRender, ProbeDebug) {
  std::string out;
  for (const auto& r : {golden_reports()[1], mailtls::testing::golden_no_verdict_report()}) {
    const auto response = probe_response(r, /*debug=*/true);
    out += "### /probe?target=" + r.domain + "&debug=true -> " + std::to_string(response.status) +
           " " + response.content_type + "\n" + response.body;
  }
  expect_golden("probe_debug.txt", out);
}

TEST(GoldenRender, CheckText) {
  const auto reports = golden_reports();
  std::vector<domain::DomainReport> judged(reports.begin(), reports.end() - 1);
  std::string out = format_check_texts(judged, kValidating, /*color=*/false, golden_now());
  out += "exit " + std::to_string(check_exit_code(judged)) + "\n";
  const std::vector<domain::DomainReport> no_verdict{reports.back()};
  out += format_check_texts(no_verdict, kNotValidating, /*color=*/false, golden_now());
  out += "exit " + std::to_string(check_exit_code(no_verdict)) + "\n";
  expect_golden("check.txt", out);
}

TEST(GoldenRender, CheckTextColor) {
  const auto reports = golden_reports();
  expect_golden("check_color.txt",
                format_check_texts({reports[0], reports[1], reports[2]}, kValidating,
                                   /*color=*/true, golden_now()));
}

TEST(GoldenRender, CheckJson) {
  const auto reports = golden_reports();
  std::vector<domain::DomainReport> judged(reports.begin(), reports.end() - 1);
  expect_golden("check.json", format_check_json(judged, kValidating));
  expect_golden("check_not_validating.json", format_check_json({reports.back()}, kNotValidating));
}

}  // namespace
}  // namespace mailtls::exporter
