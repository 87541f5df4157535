#include "exporter/tlsrpt_receiver.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <set>
#include <vector>

#include "exporter/metric_builder.h"
#include "probes/base/printable_text.h"

namespace mailtls::exporter {
namespace {

constexpr const char* kCounters = "tlsrpt_counters";  // "<metric>\t<json labels>" -> value
constexpr const char* kSeen = "tlsrpt_seen";          // dedup key -> Unix time received
constexpr double kSeenRetentionSeconds = 14 * 86400;  // senders retry for at most a day or so
constexpr std::uintmax_t kMaxMailFileBytes = 32 << 20;

double now_seconds() {
  return std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
}

std::string counter_key(const std::string& metric, const nlohmann::json& labels) {
  // Label values come from reports (parsed JSON, so UTF-8); replace keeps dump() from throwing
  // should one ever not be.
  return metric + "\t" + labels.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

}  // namespace

TlsRptReceiver::TlsRptReceiver(TlsRptReceiverOptions options, StateStore& state)
    : options_(options),
      intake_(tlsrpt::IntakeLimits{options.max_body_bytes, options.max_decompressed_bytes, {}}),
      state_(state) {}

void TlsRptReceiver::count_rejection_locked(const std::string& reason) {
  const auto key = counter_key("tlsrpt_reports_rejected_total", {{"reason", reason}});
  auto v = state_.get(kCounters, key);
  state_.put(kCounters, key, (v.is_number() ? v.get<double>() : 0.0) + 1);
}

void TlsRptReceiver::count_refused_by_server(const std::string& reason) {
  std::lock_guard lock(mu_);
  count_rejection_locked(reason);
  std::string err;
  state_.save(&err);
}

TlsRptReceiver::Outcome TlsRptReceiver::record(const tlsrpt::IntakeResult& result,
                                               std::string* detail) {
  std::lock_guard lock(mu_);
  if (!result.ok()) {
    const auto& rej = *result.rejection;
    count_rejection_locked(std::string(tlsrpt::reason_label(rej.reason)));
    *detail = rej.message;
    std::string err;
    if (!state_.save(&err)) spdlog::error("saving TLS-RPT counters failed: {}", err);
    return Outcome::kRejected;
  }
  const auto& report = *result.report;
  const std::string key = tlsrpt::dedup_key(report);
  if (!state_.get(kSeen, key).is_null()) {
    *detail = "duplicate of an earlier report (" + report.organization_name + ", " + report.report_id + ")";
    return Outcome::kDuplicate;
  }
  // What this report changes, with the previous values, to undo it if it cannot be saved.
  std::vector<std::pair<std::string, nlohmann::json>> previous;
  // Cap the number of distinct organizations: attacker-controlled label values.
  std::set<std::string> orgs;
  const auto counters = state_.section(kCounters);  // a copy: items() must not outlive it
  for (const auto& [k, v] : counters.items()) {
    if (k.rfind("tlsrpt_reports_total\t", 0) == 0) orgs.insert(k);
  }
  const double now = now_seconds();
  for (auto inc : tlsrpt::aggregate(report)) {
    nlohmann::json labels = nlohmann::json::object();
    for (const auto& l : inc.labels) labels[l.name] = l.value;
    if (labels.contains("organization") && orgs.size() >= options_.max_organizations &&
        !orgs.count(counter_key("tlsrpt_reports_total", {{"organization", labels["organization"]}}))) {
      labels["organization"] = "other";
    }
    const auto ckey = counter_key(std::string(inc.metric), labels);
    auto v = state_.get(kCounters, ckey);
    previous.emplace_back(ckey, v);
    state_.put(kCounters, ckey, (v.is_number() ? v.get<double>() : 0.0) + static_cast<double>(inc.amount));
  }
  state_.put(kSeen, key, now);
  std::string err;
  if (!state_.save(&err)) {
    // Not persisted: undo, so that the sender's retry (RFC 8460 §5.4: a failed delivery is
    // retried) is counted once it can be saved, and a restart does not lose an acknowledged report.
    for (auto it = previous.rbegin(); it != previous.rend(); ++it) {
      if (it->second.is_null()) {
        state_.erase(kCounters, it->first);
      } else {
        state_.put(kCounters, it->first, it->second);
      }
    }
    state_.erase(kSeen, key);
    *detail = "from " + report.organization_name + ", report-id " + report.report_id +
              ": not stored, saving the state failed: " + err;
    return Outcome::kNotStored;
  }
  const auto seen = state_.section(kSeen);
  for (const auto& [k, v] : seen.items()) {
    if (v.is_number() && now - v.get<double>() > kSeenRetentionSeconds) state_.erase(kSeen, k);
  }
  *detail = "from " + report.organization_name + ", report-id " + report.report_id;
  return Outcome::kAccepted;
}

HttpResponse TlsRptReceiver::handle_post(const HttpRequest& req) {
  const auto result = intake_.accept(req.body, req.header("Content-Type"));
  std::string detail;
  const auto outcome = record(result, &detail);
  // Organization names, report ids and parser notes are the sender's text: logged and echoed
  // printable (an ESC or a newline would drive a terminal or forge log lines).
  detail = printable_text(detail);
  for (const auto& note : result.notes) {
    spdlog::info("TLS-RPT report from {}: {}", req.remote_addr, printable_text(note));
  }
  switch (outcome) {
    case Outcome::kAccepted:
      spdlog::info("TLS-RPT report accepted {}", detail);
      return {200, "text/plain; charset=utf-8", "accepted\n", {}};
    case Outcome::kDuplicate:
      spdlog::info("TLS-RPT report {}", detail);
      return {200, "text/plain; charset=utf-8", "duplicate, already counted\n", {}};
    case Outcome::kNotStored:
      spdlog::error("TLS-RPT report {}; answered 503 so that the sender retries", detail);
      return {503, "text/plain; charset=utf-8", "cannot store the report now, retry later\n", {}};
    case Outcome::kRejected:
      break;
  }
  spdlog::warn("TLS-RPT report from {} refused: {}", req.remote_addr, detail);
  int status = 400;
  switch (result.rejection->reason) {
    case tlsrpt::RejectionReason::kTooLarge:
    case tlsrpt::RejectionReason::kDecompressedTooLarge: status = 413; break;
    case tlsrpt::RejectionReason::kBadContentType: status = 415; break;
    default: break;
  }
  return {status, "text/plain; charset=utf-8", "refused: " + detail + "\n", {}};
}

int TlsRptReceiver::import_maildir(const std::string& maildir) {
  namespace fs = std::filesystem;
  const fs::path new_dir = fs::path(maildir) / "new", cur_dir = fs::path(maildir) / "cur";
  std::error_code ec;
  if (!fs::is_directory(new_dir, ec)) return 0;
  fs::create_directories(cur_dir, ec);
  int processed = 0;
  // Listed first, then processed: the loop renames entries of the directory it reads.
  std::vector<fs::path> messages;
  for (fs::directory_iterator it(new_dir, ec), end; !ec && it != end; it.increment(ec)) {
    std::error_code file_ec;
    if (it->is_regular_file(file_ec)) messages.push_back(it->path());
  }
  if (ec) spdlog::error("cannot list {}: {}", new_dir.string(), ec.message());
  std::sort(messages.begin(), messages.end());
  for (const auto& path : messages) {
    std::string detail;
    tlsrpt::IntakeResult result;
    std::error_code size_ec;
    const auto size = fs::file_size(path, size_ec);
    if (size_ec) continue;  // gone meanwhile (another reader of the Maildir)
    if (size > kMaxMailFileBytes) {
      result.rejection = tlsrpt::Rejection{tlsrpt::RejectionReason::kTooLarge, "message larger than 32 MiB"};
    } else {
      std::ifstream in(path, std::ios::binary);
      std::string message((std::istreambuf_iterator<char>(in)), {});
      result = intake_.accept_mail(message, tlsrpt::MailAcceptPolicy{options_.accept_unsigned_mail});
    }
    const auto outcome = record(result, &detail);
    detail = printable_text(detail);  // the sender's text, for the log
    if (outcome == Outcome::kNotStored) {
      // Left in new/: read again on the next pass, when the state can be saved.
      spdlog::error("TLS-RPT mail {}: {}; left in new/", path.filename().string(), detail);
      continue;
    }
    if (outcome == Outcome::kRejected) {
      spdlog::warn("TLS-RPT mail {} refused: {}", path.filename().string(), detail);
    } else {
      spdlog::info("TLS-RPT mail {}: {}", path.filename().string(), detail);
    }
    // Maildir: a processed message moves to cur/ with the Seen flag, so it is not read again.
    std::error_code move_ec;
    fs::rename(path, cur_dir / (path.filename().string() + ":2,S"), move_ec);
    if (move_ec) spdlog::error("cannot move {} to cur/: {}", path.string(), move_ec.message());
    ++processed;
  }
  return processed;
}

std::vector<prometheus::MetricFamily> TlsRptReceiver::Collect() const {
  MetricBuilder b;
  static const std::map<std::string, std::string> kHelp = {
      {"tlsrpt_report_sessions_total", "TLS sessions reported by senders in RFC 8460 reports."},
      {"tlsrpt_report_failures_total", "Failed sessions reported by senders, by result type."},
      {"tlsrpt_reports_total", "TLS-RPT reports accepted."},
      {"tlsrpt_reports_rejected_total", "TLS-RPT reports refused, by reason."},
  };
  const auto counters = state_.section(kCounters);
  for (const auto& [key, value] : counters.items()) {
    const auto tab = key.find('\t');
    if (tab == std::string::npos || !value.is_number()) continue;
    const std::string metric = key.substr(0, tab);
    auto help = kHelp.find(metric);
    if (help == kHelp.end()) continue;
    auto labels_json = nlohmann::json::parse(key.substr(tab + 1), nullptr, false);
    if (!labels_json.is_object()) continue;
    Labels labels;
    for (const auto& [k, v] : labels_json.items()) labels.emplace_back(k, v.is_string() ? v.get<std::string>() : v.dump());
    b.counter("mailtls_" + metric, help->second, labels, value.get<double>());
  }
  return b.take();
}

}  // namespace mailtls::exporter
