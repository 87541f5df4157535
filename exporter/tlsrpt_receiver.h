#pragma once
// Receives RFC 8460 TLS-RPT reports (POST /tlsrpt, and mailed reports from a watched Maildir)
// and keeps the counters of DESIGN.md §5 in the state file, so a restart does not reset them
// and a report retried by its sender (same organization and report-id) counts once.
// Thread-safe.

#include <prometheus/collectable.h>
#include <prometheus/metric_family.h>

#include <map>
#include <mutex>
#include <string>

#include "exporter/state_store.h"
#include "exporter/web_server.h"
#include "probes/tlsrpt/report_intake.h"

namespace mailtls::exporter {

struct TlsRptReceiverOptions {
  std::size_t max_body_bytes = 1 << 20;
  std::size_t max_decompressed_bytes = 20 << 20;
  // Mailed reports MUST carry a valid DKIM signature (RFC 8460 §5.3). This exporter does not
  // verify DKIM; accept unsigned mail only when the MTA delivering into the Maildir verified it.
  bool accept_unsigned_mail = false;
  std::size_t max_organizations = 1000;  // label cardinality guard; others count as "other"
};

class TlsRptReceiver final : public prometheus::Collectable {
 public:
  TlsRptReceiver(TlsRptReceiverOptions options, StateStore& state);

  // POST /tlsrpt: 200 accepted (or a duplicate), 400 malformed, 413 too large, 415 wrong type,
  // 503 when it cannot be saved (the sender retries; it is not counted until it is saved).
  HttpResponse handle_post(const HttpRequest& req);
  // A body refused by the HTTP server before it reached handle_post (413).
  void count_refused_by_server(const std::string& reason);
  // Processes every message in <maildir>/new, moving each to <maildir>/cur (flagged seen).
  // Returns how many were processed.
  int import_maildir(const std::string& maildir);

  std::vector<prometheus::MetricFamily> Collect() const override;

 private:
  enum class Outcome { kAccepted, kDuplicate, kRejected, kNotStored };
  Outcome record(const tlsrpt::IntakeResult& result, std::string* detail);
  void count_rejection_locked(const std::string& reason);

  TlsRptReceiverOptions options_;
  tlsrpt::ReportIntake intake_;
  StateStore& state_;
  mutable std::mutex mu_;
};

}  // namespace mailtls::exporter
