// TLS-RPT report as POSTed: the JSON parser directly, and the intake with both content types
// (application/tlsrpt+json and application/tlsrpt+gzip) so gzip and JSON run together.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "probes/tlsrpt/report_intake.h"
#include "probes/tlsrpt/report_parser.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view body(reinterpret_cast<const char*>(data), size);
  (void)mailtls::tlsrpt::parse_report(body);
  static const mailtls::tlsrpt::ReportIntake intake;
  auto json = intake.accept(body, "application/tlsrpt+json");
  if (json.ok()) {
    (void)mailtls::tlsrpt::aggregate(*json.report);
    (void)mailtls::tlsrpt::dedup_key(*json.report);
  }
  (void)intake.accept(body, "application/tlsrpt+gzip");
  return 0;
}
