#pragma once
// RFC 8460 §4.4 JSON → TlsRptReport. Strict on types (a count must be a non-negative JSON
// integer that fits in 64 bits: "3", 3.0 and -1 are refused, never coerced), tolerant of
// unknown members and of the deviations real reporters show (see ReportDeviation).
// The JSON is read as a stream of events (nlohmann-json SAX), never as a document: only the
// members RFC 8460 defines are kept, and depth, values and array lengths are bounded, so the
// memory a report costs is about the size of what it says, not of how it is written.

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string_view>

#include "probes/base/expected.h"
#include "probes/tlsrpt/rejection.h"
#include "probes/tlsrpt/report.h"

namespace mailtls::tlsrpt {

struct ReportParseLimits {
  std::size_t max_json_bytes = 20 * 1024 * 1024;  // mox's cap for decompressed reports
  int max_depth = 16;                             // a valid report nests 6 deep
  std::size_t max_policies = 10'000;
  std::size_t max_failure_details = 100'000;      // over all policies
  std::size_t max_array_length = 100'000;         // any array, also in unknown members
  std::size_t max_values = 2'000'000;             // JSON values of all kinds, also in unknown members
  // A count above this is refused (kSchema), not added: 10^12 sessions in one report period is
  // far beyond any sender, and sums of such counts stay exact in a double (below 2^53).
  std::uint64_t max_session_count = 1'000'000'000'000;
};

// The report, or why it was refused (kTooLarge, kBadJson or kSchema).
using ReportParseResult = Expected<TlsRptReport, Rejection>;

ReportParseResult parse_report(std::string_view json, const ReportParseLimits& limits = {});

// RFC 3339 date-time ("2016-04-01T00:00:00Z", "...T12:00:00.5+02:00"). A missing zone is taken
// as UTC and reported through had_zone=false. Leap second 60 is read as 59.
struct ParsedDateTime {
  std::chrono::system_clock::time_point at;
  bool had_zone = true;
};
std::optional<ParsedDateTime> parse_rfc3339(std::string_view s);

}  // namespace mailtls::tlsrpt
