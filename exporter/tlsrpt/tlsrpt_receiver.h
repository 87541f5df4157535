#pragma once
// Receives RFC 8460 TLS-RPT reports (POST /tlsrpt, and mailed reports from a watched Maildir)
// and keeps the counters of docs/metrics.md in the state file, so a restart does not reset them
// and a report retried by its sender counts once.
//
// POST /tlsrpt is open to anyone, so everything a report controls is bounded (issue 17):
//   * policy_domain: a domain of the configuration, or "other";
//   * organization: one of known_organizations, or one of at most max_organizations others,
//     taken first come from reports about a monitored domain and kept while they report;
//     any other organization is "other". An organization outside known_organizations, and a
//     policy domain no longer monitored, whose counters were not updated for label_retention
//     lose their series (and free their slot);
//   * the memory of the reports parsed at the same time (parse_budget_bytes, against a bound
//     of what each may inflate to; a report over it gets 503 Retry-After);
//   * the dedup set (max_seen_reports, and seen_retention).
// A report is acknowledged only once the state that counts it is on disk; reports that
// arrive together share one save (group commit). Refused reports and duplicates do not
// write the state (their counters are written by the exporter's periodic save).
// Thread-safe.

#include <prometheus/collectable.h>
#include <prometheus/metric_family.h>

#include <condition_variable>
#include <filesystem>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <vector>

#include "exporter/runtime/state_store.h"
#include "exporter/http/web_server.h"
#include "probes/dns/resolver.h"
#include "probes/tlsrpt/dkim_verification.h"
#include "probes/tlsrpt/report_intake.h"

namespace mailtls::exporter {

struct TlsRptReceiverOptions {
  std::size_t max_body_bytes = 1 << 20;
  std::size_t max_decompressed_bytes = 20 << 20;
  // Mailed reports MUST carry a valid DKIM signature of the reporting domain (RFC 8460 §5.3),
  // verified with keys looked up through key_resolver. accept_unsigned_mail skips that check:
  // only for a Maildir whose MTA verified DKIM already. Logged as a warning at start and shown
  // as mailtls_tlsrpt_accept_unsigned_mail.
  bool accept_unsigned_mail = false;
  std::shared_ptr<dns::Resolver> key_resolver;  // empty: mailed reports wait in new/
  // A mail whose DKIM key cannot be had (not found, DNS failure) stays in new/ and is tried at
  // every pass for this long after it arrived, then refused as dkim_key_unavailable.
  double dkim_retry_seconds = 2 * 86400.0;
  // organization-name values that always get their own label ("Google Inc.", ...).
  std::vector<std::string> known_organizations;
  std::size_t max_organizations = 50;  // labels for organizations not in known_organizations
  double label_retention_seconds = 30 * 86400.0;
  // What the reports being inflated and parsed at once may cost, each counted at twice the
  // most its body can inflate to (deflate expands at most ~1032:1; max_decompressed_bytes):
  // two 20 MiB gzip bombs at a time, hundreds of ordinary reports.
  std::size_t parse_budget_bytes = 96 << 20;
  std::size_t max_seen_reports = 50'000;   // dedup keys kept
  double seen_retention_seconds = 14 * 86400.0;  // senders retry for at most a day or so
};

// Seams for tests: how the state is saved and what time it is. Empty: the StateStore, the clock.
struct TlsRptReceiverHooks {
  std::function<bool(std::string*)> save;
  std::function<double()> now;  // Unix seconds
  std::function<void()> parsing;  // runs while a POSTed report holds its share of the parse budget
};

class TlsRptReceiver final : public prometheus::Collectable {
 public:
  TlsRptReceiver(TlsRptReceiverOptions options, StateStore& state, TlsRptReceiverHooks hooks = {});

  // The configured domains (normalised names): the policy_domain values that get a label.
  void set_monitored_domains(const std::vector<std::string>& domains);

  // POST /tlsrpt: 200 accepted (or a duplicate), 400 malformed, 413 too large, 415 wrong type,
  // 503 when it cannot be saved or too many reports are being parsed (the sender retries; it
  // is not counted until it is saved).
  HttpResponse handle_post(const HttpRequest& req);
  // A body refused by the HTTP server before it reached handle_post (413).
  void count_refused_by_server(const std::string& reason);
  // Processes every message in <maildir>/new: an accepted (or duplicate) one moves to
  // <maildir>/cur (flagged seen), a refused one to <maildir>/rejected with a <name>.note file
  // giving the reason; one whose DKIM key cannot be had now stays in new/ for the next pass.
  // Returns how many were moved.
  int import_maildir(const std::string& maildir);

  std::vector<prometheus::MetricFamily> Collect() const override;

 private:
  enum class Outcome { kAccepted, kDuplicate, kRejected, kNotStored };
  // A report counted in memory and waiting for a save that includes it.
  struct Pending {
    std::vector<std::pair<std::string, double>> added;  // counter key, amount
    std::vector<std::string> created;                   // counter keys this report created
    std::string seen_key;
    enum class Status { kWaiting, kDurable, kFailed } status = Status::kWaiting;
    std::string error;
  };

  Outcome record(const tlsrpt::IntakeResult& result, std::string* detail);
  // Waits until a save that includes `p` has ended; false (with the reason) if it failed,
  // in which case the report has been taken out of the counters again.
  bool commit(std::unique_lock<std::mutex>& lock, const std::shared_ptr<Pending>& p, std::string* error);
  void undo_locked(const Pending& p);
  void count_rejection_locked(const std::string& reason);
  void count_locked(const std::string& metric, const nlohmann::json& labels);
  // Refused or deferred on DKIM grounds before anything is counted; see import_maildir.
  bool defer_mail(const std::filesystem::path& path, tlsrpt::IntakeResult& result);
  std::string organization_label_locked(const std::string& organization, bool about_monitored, double now);
  void remember_seen_locked(const std::string& key, double now);
  void expire_labels_locked(double now);
  std::size_t parse_cost(std::size_t bytes, bool maybe_gzip) const;
  bool begin_parse(std::size_t cost, bool wait);
  void end_parse(std::size_t cost);
  double now() const;

  TlsRptReceiverOptions options_;
  TlsRptReceiverHooks hooks_;
  tlsrpt::ReportIntake intake_;
  std::unique_ptr<tlsrpt::DkimVerifier> dkim_;  // set when options_.key_resolver is
  StateStore& state_;
  std::set<std::string> known_organizations_;  // sanitised like the labels

  mutable std::mutex mu_;
  std::condition_variable committed_;
  std::set<std::string> monitored_;
  std::map<std::string, double> organizations_;     // label -> last update (not the known ones)
  std::map<std::string, double> policy_domains_;    // label -> last update
  std::multimap<double, std::string> seen_by_time_;  // dedup keys, oldest first
  std::vector<std::shared_ptr<Pending>> pending_;    // not yet in a save
  std::map<std::string, std::shared_ptr<Pending>> pending_by_key_;
  bool saving_ = false;
  double next_expiry_ = 0;

  std::mutex parse_mu_;
  std::condition_variable parse_done_;
  std::size_t parsing_bytes_ = 0;  // sum of parse_cost() of the reports being parsed
};

}  // namespace mailtls::exporter
