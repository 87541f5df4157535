#pragma once
// The one entry point the exporter calls for a report: HTTP POST bodies (RFC 8460 §5.4) and
// mailed reports (§5.3) in, a parsed report or a named rejection out; and the counter
// increments a report contributes to (the exporter turns them into the TLS-RPT metrics of
// docs/metrics.md).
//
// Thread safety: ReportIntake is immutable after construction; accept() may run concurrently.

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "probes/tlsrpt/dkim_signing_rule.h"
#include "probes/tlsrpt/dkim_verification.h"
#include "probes/tlsrpt/gzip_decoder.h"
#include "probes/tlsrpt/mail_report_extractor.h"
#include "probes/tlsrpt/rejection.h"
#include "probes/tlsrpt/report.h"
#include "probes/tlsrpt/report_parser.h"

namespace mailtls::tlsrpt {

struct IntakeLimits {
  std::size_t max_body_bytes = 10 * 1024 * 1024;         // the POST body as received
  std::size_t max_decompressed_bytes = 20 * 1024 * 1024; // mox's cap
  MailLimits mail;
};

// Mailed reports MUST carry a valid DKIM signature of the reporting domain (§5.3); the rule
// is judge_dkim() (dkim_signing_rule.h). Without a verifier every mail is deferred (the
// monitor cannot check it now, which is not the sender's fault). allow_unsigned skips DKIM
// altogether, for a Maildir that its own MTA already filtered.
struct MailAcceptPolicy {
  bool allow_unsigned = false;
  const DkimVerifier* verifier = nullptr;  // borrowed
};

struct IntakeResult {
  std::optional<TlsRptReport> report;  // set when accepted
  std::optional<Rejection> rejection;  // set when refused
  // Things worth logging about an accepted report: a lenient content type, a Submitter that
  // disagrees with contact-info. Free text, never labels.
  std::vector<std::string> notes;
  // For mailed reports: the envelope facts (headers), and the DKIM verdict (none when
  // allow_unsigned or when the message was refused before DKIM was looked at).
  std::optional<MailReport> mail;
  std::optional<DkimVerdict> dkim;
  bool ok() const { return report.has_value(); }
  // Neither accepted nor refused: the DKIM key could not be had now; try the mail again later.
  bool deferred() const { return !report && !rejection && dkim && dkim->result == DkimResult::kTemporary; }
};

class ReportIntake {
 public:
  explicit ReportIntake(IntakeLimits limits = {}) : limits_(limits) {}

  // An HTTP POST body with its Content-Type header value. application/tlsrpt+gzip must be
  // gzip; application/tlsrpt+json is taken as is; application/json, application/gzip and
  // application/x-gzip are accepted leniently (with a note); gzip is recognised by its magic
  // for all of these. Anything else: bad_content_type.
  IntakeResult accept(std::string_view body, std::string_view content_type) const;

  // An RFC 5322 message (a Maildir file). See MailAcceptPolicy for the DKIM rule.
  IntakeResult accept_mail(std::string_view message, const MailAcceptPolicy& policy) const;

 private:
  IntakeLimits limits_;
};

// The counts a report adds to. The exporter names them and their labels (docs/metrics.md);
// this library knows nothing of metrics.
enum class Counter {
  kSessions,  // sessions per (policy_domain, policy_type, organization, result)
  kFailures,  // failed sessions per (policy_domain, organization, result_type)
  kReports,   // reports per organization
};

// The two session totals of a policy (RFC 8460 §4.4 summary).
enum class SessionResult { kSuccessful, kFailure };

// One counter increment. Which fields identify it depends on `counter` (see Counter); the
// others keep their defaults. Text values are already bounded and sanitised.
struct CounterIncrement {
  Counter counter = Counter::kReports;
  std::string organization{};                         // every counter
  std::string policy_domain{};                        // kSessions, kFailures
  PolicyType policy_type = PolicyType::kOther;        // kSessions
  SessionResult result = SessionResult::kSuccessful;  // kSessions
  ResultType result_type = ResultType::kOther;        // kFailures
  std::uint64_t amount = 0;
  bool operator==(const CounterIncrement&) const = default;
};

// The increments one accepted (and not duplicate) report contributes:
//   kSessions += total-successful-session-count and total-failure-session-count per policy
//     (zero counts are included so the series exist),
//   kFailures += failed-session-count per failure detail (result_type kOther outside the
//     registry),
//   kReports += 1.
// Increments with the same identifying fields are merged; sums saturate at 2^64-1.
std::vector<CounterIncrement> aggregate(const TlsRptReport& report);

// The dedup key of RFC 8460 §5.5 / docs/verdicts.md R9, as a fixed 64-character hex SHA-256 so the
// exporter's state file stays small whatever the sender wrote. It covers the
// (organization-name, report-id) pair and everything else the report says (dates, contact,
// every policy and failure detail, as parsed): an exact resend, even re-compressed or
// re-indented, is a duplicate, but a different report that reuses the id is not, so a forged
// report sent first under a predictable id cannot suppress the real one.
std::string dedup_key(const TlsRptReport& report);

// Label-value sanitising for attacker-controlled text: control characters (C0, DEL, C1) and
// invalid UTF-8 become '_', the result is cut to max_chars code points. "" becomes "unknown".
std::string sanitize_label_value(std::string_view value, std::size_t max_chars);
inline constexpr std::size_t kMaxOrganizationChars = 64;
inline constexpr std::size_t kMaxDomainChars = 253;

}  // namespace mailtls::tlsrpt
