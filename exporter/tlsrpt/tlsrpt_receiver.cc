#include "exporter/tlsrpt/tlsrpt_receiver.h"

#include <spdlog/spdlog.h>
#include <sys/stat.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <vector>

#include "exporter/runtime/logging.h"
#include "exporter/exposition/metric_builder.h"
#include "probes/base/printable_text.h"

namespace mailtls::exporter {
namespace {

constexpr const char* kCounters = "tlsrpt_counters";  // "<metric>\t<json labels>" -> value
constexpr const char* kSeen = "tlsrpt_seen";          // dedup key -> Unix time received
constexpr const char* kLabels = "tlsrpt_labels";      // "<label>\t<value>" -> Unix time last updated
constexpr const char* kOrganization = "organization";
constexpr const char* kPolicyDomain = "policy_domain";
constexpr const char* kOther = "other";
constexpr std::uintmax_t kMaxMailFileBytes = 32 << 20;
constexpr double kExpiryInterval = 3600;  // how often labels past their retention are looked for
constexpr int kRetryAfterSeconds = 60;

std::string metric_name(tlsrpt::Counter c) {
  switch (c) {
    case tlsrpt::Counter::kSessions: return "tlsrpt_report_sessions_total";
    case tlsrpt::Counter::kFailures: return "tlsrpt_report_failures_total";
    case tlsrpt::Counter::kReports: return "tlsrpt_reports_total";
  }
  return "tlsrpt_reports_total";
}

// The labels of an increment's series (docs/metrics.md), before the policy_domain and
// organization bounds are applied.
std::vector<std::pair<std::string, std::string>> series_labels(const tlsrpt::CounterIncrement& inc) {
  switch (inc.counter) {
    case tlsrpt::Counter::kSessions:
      return {{kPolicyDomain, inc.policy_domain},
              {"policy_type", std::string(tlsrpt::policy_type_label(inc.policy_type))},
              {kOrganization, inc.organization},
              {"result", inc.result == tlsrpt::SessionResult::kSuccessful ? "successful" : "failure"}};
    case tlsrpt::Counter::kFailures:
      return {{kPolicyDomain, inc.policy_domain},
              {kOrganization, inc.organization},
              {"result_type", std::string(tlsrpt::result_type_label(inc.result_type))}};
    case tlsrpt::Counter::kReports: return {{kOrganization, inc.organization}};
  }
  return {{kOrganization, inc.organization}};
}

std::string counter_key(const std::string& metric, const nlohmann::json& labels) {
  // Label values come from reports (parsed JSON, so UTF-8); replace keeps dump() from throwing
  // should one ever not be.
  return metric + "\t" + labels.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

std::string label_key(const std::string& label, const std::string& value) { return label + "\t" + value; }

double number_or_zero(const nlohmann::json& v) { return v.is_number() ? v.get<double>() : 0.0; }

}  // namespace

TlsRptReceiver::TlsRptReceiver(TlsRptReceiverOptions options, StateStore& state, TlsRptReceiverHooks hooks)
    : options_(std::move(options)),
      hooks_(std::move(hooks)),
      intake_(tlsrpt::IntakeLimits{options_.max_body_bytes, options_.max_decompressed_bytes, {}}),
      state_(state) {
  for (const auto& o : options_.known_organizations) {
    known_organizations_.insert(tlsrpt::sanitize_label_value(o, tlsrpt::kMaxOrganizationChars));
  }
  if (options_.key_resolver) dkim_ = std::make_unique<tlsrpt::DkimVerifier>(*options_.key_resolver);
  if (options_.accept_unsigned_mail) {
    spdlog::warn(
        "TLS-RPT: accept_unsigned_mail is on: mailed reports are NOT checked for DKIM (RFC 8460 §5.3 requires it); "
        "anyone who can send mail to the Maildir can add to the report counters. Use it only if the MTA delivering "
        "to the Maildir verifies DKIM of the reporting domain.");
  }
  const double t = now();
  const auto labels = state_.section(kLabels);
  for (const auto& [k, v] : labels.items()) {
    const auto tab = k.find('\t');
    if (tab == std::string::npos || !v.is_number()) continue;
    const std::string label = k.substr(0, tab), value = k.substr(tab + 1);
    if (label == kOrganization && !known_organizations_.count(value) && value != kOther) {
      organizations_[value] = v.get<double>();
    } else if (label == kPolicyDomain && value != kOther) {
      policy_domains_[value] = v.get<double>();
    }
  }
  // Labels in counters written before their update times were kept (or by an older version)
  // start their retention now.
  const auto counters = state_.section(kCounters);
  for (const auto& [k, v] : counters.items()) {
    const auto tab = k.find('\t');
    if (tab == std::string::npos) continue;
    const auto labels_json = nlohmann::json::parse(k.substr(tab + 1), nullptr, false);
    if (!labels_json.is_object()) continue;
    if (const auto o = labels_json.find(kOrganization); o != labels_json.end() && o->is_string()) {
      const auto value = o->get<std::string>();
      if (!known_organizations_.count(value) && value != kOther) organizations_.try_emplace(value, t);
    }
    if (const auto d = labels_json.find(kPolicyDomain); d != labels_json.end() && d->is_string()) {
      if (d->get<std::string>() != kOther) policy_domains_.try_emplace(d->get<std::string>(), t);
    }
  }
  const auto seen = state_.section(kSeen);
  for (const auto& [k, v] : seen.items()) seen_by_time_.emplace(number_or_zero(v), k);
}

double TlsRptReceiver::now() const {
  if (hooks_.now) return hooks_.now();
  return std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
}

void TlsRptReceiver::set_monitored_domains(const std::vector<std::string>& domains) {
  std::set<std::string> names;
  for (std::string d : domains) {
    for (char& c : d) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    while (!d.empty() && d.back() == '.') d.pop_back();
    names.insert(std::move(d));
  }
  std::lock_guard lock(mu_);
  monitored_ = std::move(names);
}

void TlsRptReceiver::count_locked(const std::string& metric, const nlohmann::json& labels) {
  // In memory only: the exporter's periodic save writes it. A refused report must not cost a
  // write of the whole state (issue 17, finding 10).
  const auto key = counter_key(metric, labels);
  state_.put(kCounters, key, number_or_zero(state_.get(kCounters, key)) + 1);
}

void TlsRptReceiver::count_rejection_locked(const std::string& reason) {
  count_locked("tlsrpt_reports_rejected_total", {{"reason", reason}});
}

void TlsRptReceiver::count_refused_by_server(const std::string& reason) {
  std::lock_guard lock(mu_);
  count_rejection_locked(reason);
}

std::string TlsRptReceiver::organization_label_locked(const std::string& organization, bool about_monitored,
                                                      double now) {
  if (known_organizations_.count(organization) || organization == kOther) return organization;
  if (auto it = organizations_.find(organization); it != organizations_.end()) {
    it->second = now;
    return organization;
  }
  // A new one takes a free slot only with a report about a domain we monitor: reports about
  // anything else cannot use up the slots real reporters of our domains need.
  if (!about_monitored || organizations_.size() >= options_.max_organizations) return kOther;
  organizations_.emplace(organization, now);
  return organization;
}

void TlsRptReceiver::remember_seen_locked(const std::string& key, double now) {
  state_.put(kSeen, key, now);
  seen_by_time_.emplace(now, key);
  while (!seen_by_time_.empty() && (seen_by_time_.size() > options_.max_seen_reports ||
                                    now - seen_by_time_.begin()->first > options_.seen_retention_seconds)) {
    state_.erase(kSeen, seen_by_time_.begin()->second);
    seen_by_time_.erase(seen_by_time_.begin());
  }
}

// Organizations outside known_organizations, and policy domains no longer monitored, that no
// report updated for label_retention lose their series, so forged labels do not stay forever.
void TlsRptReceiver::expire_labels_locked(double now) {
  if (now < next_expiry_) return;
  next_expiry_ = now + kExpiryInterval;
  std::set<std::string> organizations, domains;
  for (auto it = organizations_.begin(); it != organizations_.end();) {
    if (now - it->second > options_.label_retention_seconds) {
      organizations.insert(it->first);
      state_.erase(kLabels, label_key(kOrganization, it->first));
      it = organizations_.erase(it);
    } else {
      ++it;
    }
  }
  for (auto it = policy_domains_.begin(); it != policy_domains_.end();) {
    if (!monitored_.count(it->first) && now - it->second > options_.label_retention_seconds) {
      domains.insert(it->first);
      state_.erase(kLabels, label_key(kPolicyDomain, it->first));
      it = policy_domains_.erase(it);
    } else {
      ++it;
    }
  }
  if (organizations.empty() && domains.empty()) return;
  const auto counters = state_.section(kCounters);  // a copy: items() must not outlive it
  std::size_t erased = 0;
  for (const auto& [k, v] : counters.items()) {
    const auto tab = k.find('\t');
    if (tab == std::string::npos) continue;
    const auto labels = nlohmann::json::parse(k.substr(tab + 1), nullptr, false);
    if (!labels.is_object()) continue;
    const auto o = labels.find(kOrganization);
    const auto d = labels.find(kPolicyDomain);
    if ((o != labels.end() && o->is_string() && organizations.count(o->get<std::string>())) ||
        (d != labels.end() && d->is_string() && domains.count(d->get<std::string>()))) {
      state_.erase(kCounters, k);
      ++erased;
    }
  }
  spdlog::info("TLS-RPT: {} organization and {} policy domain labels not updated for {:.0f} days expired ({} series)",
               organizations.size(), domains.size(), options_.label_retention_seconds / 86400, erased);
}

TlsRptReceiver::Outcome TlsRptReceiver::record(const tlsrpt::IntakeResult& result, std::string* detail) {
  std::unique_lock lock(mu_);
  if (!result.ok()) {
    const auto& rej = *result.rejection;
    count_rejection_locked(std::string(tlsrpt::reason_label(rej.reason)));
    *detail = rej.message;
    return Outcome::kRejected;
  }
  const auto& report = *result.report;
  const std::string key = tlsrpt::dedup_key(report);
  if (const auto pending = pending_by_key_.find(key); pending != pending_by_key_.end()) {
    // The same report is being saved for another delivery: it is a duplicate once that save
    // has succeeded, and not stored if it failed.
    const auto original = pending->second;
    std::string err;
    if (!commit(lock, original, &err)) {
      *detail = "duplicate of a report that could not be saved: " + err;
      return Outcome::kNotStored;
    }
    *detail = "duplicate of an earlier report (" + report.organization_name + ", " + report.report_id + ")";
    return Outcome::kDuplicate;
  }
  if (!state_.get(kSeen, key).is_null()) {
    *detail = "duplicate of an earlier report (" + report.organization_name + ", " + report.report_id + ")";
    return Outcome::kDuplicate;
  }
  const double t = now();
  expire_labels_locked(t);
  auto incs = tlsrpt::aggregate(report);
  bool about_monitored = false;
  for (const auto& inc : incs) {
    if (inc.counter != tlsrpt::Counter::kReports && monitored_.count(inc.policy_domain)) about_monitored = true;
  }
  std::string organization;
  std::set<std::string> domains;
  auto p = std::make_shared<Pending>();
  for (auto& inc : incs) {
    nlohmann::json labels = nlohmann::json::object();
    for (auto& [name, value] : series_labels(inc)) {
      if (name == kPolicyDomain) {
        if (!monitored_.count(value)) value = kOther;
        if (value != kOther) domains.insert(value);
      } else if (name == kOrganization) {
        if (organization.empty()) organization = organization_label_locked(value, about_monitored, t);
        value = organization;
      }
      labels[name] = value;
    }
    const auto ckey = counter_key(metric_name(inc.counter), labels);
    const auto v = state_.get(kCounters, ckey);
    if (v.is_null()) p->created.push_back(ckey);
    // Counts are at most 10^12 each (the parser refuses more), so the sum stays exact.
    state_.put(kCounters, ckey, number_or_zero(v) + static_cast<double>(inc.amount));
    p->added.emplace_back(ckey, static_cast<double>(inc.amount));
  }
  if (!organization.empty() && organization != kOther && !known_organizations_.count(organization)) {
    state_.put(kLabels, label_key(kOrganization, organization), t);
  }
  for (const auto& domain : domains) {
    policy_domains_[domain] = t;
    state_.put(kLabels, label_key(kPolicyDomain, domain), t);
  }
  p->seen_key = key;
  remember_seen_locked(key, t);
  pending_by_key_[key] = p;
  pending_.push_back(p);
  std::string err;
  if (!commit(lock, p, &err)) {
    // Not persisted and taken out again, so that the sender's retry (RFC 8460 §5.4: a failed
    // delivery is retried) is counted once it can be saved.
    *detail = "from " + report.organization_name + ", report-id " + report.report_id +
              ": not stored, saving the state failed: " + err;
    return Outcome::kNotStored;
  }
  *detail = "from " + report.organization_name + ", report-id " + report.report_id;
  return Outcome::kAccepted;
}

// Group commit: `p` is in pending_ or in the batch being saved. The first report that finds no
// save running saves everything counted so far;
// reports counted meanwhile wait and are saved together by the next one. A report is
// answered only after a save that began after it was counted has ended.
bool TlsRptReceiver::commit(std::unique_lock<std::mutex>& lock, const std::shared_ptr<Pending>& p,
                            std::string* error) {
  while (p->status == Pending::Status::kWaiting) {
    if (saving_) {
      committed_.wait(lock);
      continue;
    }
    saving_ = true;
    auto batch = std::move(pending_);
    pending_.clear();
    lock.unlock();
    std::string err;
    // Every report of the batch is in the state now, so this save includes them all.
    const bool ok = hooks_.save ? hooks_.save(&err) : state_.save(&err);
    lock.lock();
    for (const auto& b : batch) {
      if (ok) {
        b->status = Pending::Status::kDurable;
      } else {
        undo_locked(*b);
        b->status = Pending::Status::kFailed;
        b->error = err;
      }
      if (auto it = pending_by_key_.find(b->seen_key); it != pending_by_key_.end() && it->second == b) {
        pending_by_key_.erase(it);
      }
    }
    saving_ = false;
    committed_.notify_all();
  }
  if (p->status == Pending::Status::kFailed) {
    *error = p->error;
    return false;
  }
  return true;
}

void TlsRptReceiver::undo_locked(const Pending& p) {
  for (const auto& [ckey, amount] : p.added) {
    const double v = number_or_zero(state_.get(kCounters, ckey)) - amount;
    const bool created = std::find(p.created.begin(), p.created.end(), ckey) != p.created.end();
    if (created && v <= 0) {
      state_.erase(kCounters, ckey);
    } else {
      state_.put(kCounters, ckey, std::max(v, 0.0));
    }
  }
  state_.erase(kSeen, p.seen_key);
  for (auto it = seen_by_time_.begin(); it != seen_by_time_.end(); ++it) {
    if (it->second == p.seen_key) {
      seen_by_time_.erase(it);
      break;
    }
  }
}

// Inflating and parsing are bounded by a budget, not a count, so ordinary reports (a few kB)
// are never turned away while two large gzip ones take it all. The cost of a body is what it
// can become: at most ~1032 times its size when gzip (deflate's limit), and never more than
// max_decompressed_bytes; doubled for the parser's copy of what it keeps. A report over the
// whole budget is still parsed when nothing else is.
std::size_t TlsRptReceiver::parse_cost(std::size_t bytes, bool maybe_gzip) const {
  constexpr std::size_t kDeflateMaxRatio = 1032;
  const std::size_t inflated =
      maybe_gzip ? std::min(options_.max_decompressed_bytes, bytes > SIZE_MAX / kDeflateMaxRatio
                                                                 ? options_.max_decompressed_bytes
                                                                 : bytes * kDeflateMaxRatio)
                 : bytes;
  return 2 * inflated;
}

bool TlsRptReceiver::begin_parse(std::size_t cost, bool wait) {
  std::unique_lock lock(parse_mu_);
  const auto fits = [&] { return parsing_bytes_ == 0 || parsing_bytes_ + cost <= options_.parse_budget_bytes; };
  if (wait) {
    parse_done_.wait(lock, fits);  // the Maildir watcher: HTTP parses end by themselves
  } else if (!fits()) {
    return false;
  }
  parsing_bytes_ += cost;
  return true;
}

void TlsRptReceiver::end_parse(std::size_t cost) {
  {
    std::lock_guard lock(parse_mu_);
    parsing_bytes_ -= cost;
  }
  parse_done_.notify_all();
}

HttpResponse TlsRptReceiver::handle_post(const HttpRequest& req) {
  const std::size_t cost = parse_cost(req.body.size(), tlsrpt::looks_like_gzip(req.body));
  if (!begin_parse(cost, /*wait=*/false)) {
    {
      std::lock_guard lock(mu_);
      count_rejection_locked("busy");
    }
    log_event(spdlog::level::warn, "TLS-RPT report deferred: too much being parsed already; answered 503",
              {{"remote", req.remote_addr}});
    return {503, "text/plain; charset=utf-8", "busy, retry later\n",
            {{"Retry-After", std::to_string(kRetryAfterSeconds)}}};
  }
  tlsrpt::IntakeResult result;
  try {
    if (hooks_.parsing) hooks_.parsing();
    result = intake_.accept(req.body, req.header("Content-Type"));
  } catch (...) {
    end_parse(cost);
    throw;
  }
  end_parse(cost);
  std::string detail;
  const auto outcome = record(result, &detail);
  // Organization names, report ids and parser notes are the sender's text: logged and echoed
  // printable (an ESC or a newline would drive a terminal or forge log lines).
  detail = printable_text(detail);
  for (const auto& note : result.notes) {
    log_event(spdlog::level::info, "TLS-RPT report note: " + printable_text(note), {{"remote", req.remote_addr}});
  }
  switch (outcome) {
    case Outcome::kAccepted:
      log_event(spdlog::level::info, "TLS-RPT report accepted " + detail, {{"remote", req.remote_addr}});
      return {200, "text/plain; charset=utf-8", "accepted\n", {}};
    case Outcome::kDuplicate:
      log_event(spdlog::level::info, "TLS-RPT report " + detail, {{"remote", req.remote_addr}});
      return {200, "text/plain; charset=utf-8", "duplicate, already counted\n", {}};
    case Outcome::kNotStored:
      log_event(spdlog::level::err, "TLS-RPT report not stored; answered 503 so that the sender retries",
                {{"remote", req.remote_addr}, {"err", detail}});
      return {503, "text/plain; charset=utf-8", "cannot store the report now, retry later\n", {}};
    case Outcome::kRejected:
      break;
  }
  log_event(spdlog::level::warn, "TLS-RPT report refused", {{"remote", req.remote_addr}, {"err", detail}});
  int status = 400;
  switch (result.rejection->reason) {
    case tlsrpt::RejectionReason::kTooLarge:
    case tlsrpt::RejectionReason::kDecompressedTooLarge: status = 413; break;
    case tlsrpt::RejectionReason::kBadContentType: status = 415; break;
    default: break;
  }
  return {status, "text/plain; charset=utf-8", "refused: " + detail + "\n", {}};
}

// A mail whose DKIM key cannot be had now stays in new/ (true) until dkim_retry_seconds after
// it arrived; then it is refused as dkim_key_unavailable (result changed, false).
bool TlsRptReceiver::defer_mail(const std::filesystem::path& path, tlsrpt::IntakeResult& result) {
  if (!result.deferred()) return false;
  struct stat st {};
  // Maildir delivery writes the file once: its mtime is when it arrived.
  const double arrived = ::stat(path.c_str(), &st) == 0 ? static_cast<double>(st.st_mtime) : now();
  if (now() - arrived < options_.dkim_retry_seconds) {
    {
      std::lock_guard lock(mu_);
      count_locked("tlsrpt_mail_dkim_deferred_total", nlohmann::json::object());
    }
    log_event(spdlog::level::warn, "TLS-RPT mail left in new/ to be tried again: DKIM key not available now",
              {{"file", path.filename().string()}, {"err", printable_text(result.dkim->reason)}});
    return true;
  }
  result.rejection = tlsrpt::Rejection{tlsrpt::RejectionReason::kDkimKeyUnavailable,
                                       "DKIM key not available for " +
                                           std::to_string(static_cast<long>(options_.dkim_retry_seconds)) +
                                           " s: " + result.dkim->reason};
  return false;
}

int TlsRptReceiver::import_maildir(const std::string& maildir) {
  namespace fs = std::filesystem;
  const fs::path new_dir = fs::path(maildir) / "new", cur_dir = fs::path(maildir) / "cur",
                 rejected_dir = fs::path(maildir) / "rejected";
  std::error_code ec;
  if (!fs::is_directory(new_dir, ec)) return 0;
  fs::create_directories(cur_dir, ec);
  fs::create_directories(rejected_dir, ec);
  int processed = 0;
  // Listed first, then processed: the loop renames entries of the directory it reads.
  std::vector<fs::path> messages;
  for (fs::directory_iterator it(new_dir, ec), end; !ec && it != end; it.increment(ec)) {
    std::error_code file_ec;
    if (it->is_regular_file(file_ec)) messages.push_back(it->path());
  }
  if (ec) log_event(spdlog::level::err, "cannot list the Maildir", {{"file", new_dir.string()}, {"err", ec.message()}});
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
      const std::size_t cost = parse_cost(message.size(), /*maybe_gzip=*/true);
      begin_parse(cost, /*wait=*/true);
      try {
        result = intake_.accept_mail(message, tlsrpt::MailAcceptPolicy{options_.accept_unsigned_mail, dkim_.get()});
      } catch (...) {
        end_parse(cost);
        throw;
      }
      end_parse(cost);
    }
    if (defer_mail(path, result)) continue;
    if (result.ok() && result.dkim) {
      std::lock_guard lock(mu_);
      count_locked("tlsrpt_mail_dkim_pass_total", {{"key_dnssec", std::string(dns::to_string(result.dkim->key_security))}});
    }
    const auto outcome = record(result, &detail);
    detail = printable_text(detail);  // the sender's text, for the log
    if (outcome == Outcome::kNotStored) {
      // Left in new/: read again on the next pass, when the state can be saved.
      log_event(spdlog::level::err, "TLS-RPT mail not stored; left in new/",
                {{"file", path.filename().string()}, {"err", detail}});
      continue;
    }
    std::error_code move_ec;
    if (outcome == Outcome::kRejected) {
      // Kept aside for the operator, with the reason beside it; never deleted.
      const std::string reason(tlsrpt::reason_label(result.rejection->reason));
      log_event(spdlog::level::warn, "TLS-RPT mail refused; moved to rejected/",
                {{"file", path.filename().string()}, {"reason", reason}, {"err", detail}});
      std::ofstream note(rejected_dir / (path.filename().string() + ".note"), std::ios::trunc);
      note << "reason: " << reason << "\n" << "detail: " << detail << "\n";
      fs::rename(path, rejected_dir / path.filename(), move_ec);
    } else {
      log_event(spdlog::level::info, "TLS-RPT mail " + detail, {{"file", path.filename().string()}});
      // Maildir: a processed message moves to cur/ with the Seen flag, so it is not read again.
      fs::rename(path, cur_dir / (path.filename().string() + ":2,S"), move_ec);
    }
    if (move_ec) {
      log_event(spdlog::level::err, "cannot move a TLS-RPT mail out of new/", {{"file", path.string()}, {"err", move_ec.message()}});
    }
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
      {"tlsrpt_mail_dkim_pass_total", "Mailed TLS-RPT reports whose DKIM signature passed, by the DNSSEC state of the key."},
      {"tlsrpt_mail_dkim_deferred_total", "Maildir passes that left a mailed report in new/ because its DKIM key was not available."},
  };
  // The DKIM series of mailed reports exist from the start (0), whatever has arrived yet.
  auto counters = state_.section(kCounters);
  for (const char* security : {"secure", "insecure"}) {
    const auto key = counter_key("tlsrpt_mail_dkim_pass_total", {{"key_dnssec", security}});
    if (!counters.contains(key)) counters[key] = 0;
  }
  if (const auto key = counter_key("tlsrpt_mail_dkim_deferred_total", nlohmann::json::object()); !counters.contains(key)) {
    counters[key] = 0;
  }
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
  b.gauge("mailtls_tlsrpt_accept_unsigned_mail",
          "1: mailed TLS-RPT reports are accepted without DKIM verification (config accept_unsigned_mail).", {},
          options_.accept_unsigned_mail ? 1 : 0);
  return b.take();
}

}  // namespace mailtls::exporter
