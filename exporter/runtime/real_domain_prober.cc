#include "exporter/runtime/real_domain_prober.h"

#include <spdlog/spdlog.h>

#include <atomic>
#include <condition_variable>
#include <mutex>
#include <optional>
#include <thread>

#include "probes/dns/resolver_self_test.h"
#include "probes/dns/unbound_resolver.h"
#include "probes/domain/judge.h"
#include "probes/domain/no_verdict.h"
#include "probes/domain/observe.h"
#include "probes/domain/resolver_outage.h"
#include "probes/mtasts/policy_fetcher.h"
#include "probes/smtp/connector.h"
#include "probes/smtp/key_type_answers.h"
#include "probes/smtp/starttls_probe.h"
#include "probes/tls/webpki_verifier.h"

namespace mailtls::exporter {
namespace {

constexpr auto kSelfTestInterval = std::chrono::minutes(10);
// After a failed self-test, try again sooner: the network may just not be up yet.
constexpr auto kSelfTestRetry = std::chrono::minutes(1);
// At start and reload the self-test must not hold things up for long.
constexpr auto kFirstSelfTestTimeout = std::chrono::seconds(5);
// When lookups failed without an answer: time to ask whether the resolver answers at all (O1).
constexpr auto kReachabilityTimeout = std::chrono::seconds(3);

class RealDomainProber final : public DomainProber {
 public:
  RealDomainProber(Config config, std::unique_ptr<dns::UnboundResolver> resolver,
                   std::shared_ptr<const tls::WebPkiVerifier> webpki,
                   std::unique_ptr<mtasts::CurlPolicyFetcher> fetcher,
                   std::shared_ptr<smtp::SmtpSessionCounter> sessions)
      : config_(std::move(config)),
        resolver_(std::move(resolver)),
        webpki_(std::move(webpki)),
        fetcher_(std::move(fetcher)),
        starttls_(make_settings(config_), connector_),
        sessions_(sessions ? std::move(sessions) : std::make_shared<smtp::SmtpSessionCounter>()),
        observations_(sessions_, make_politeness(config_)),
        key_type_answers_(config_.smtp.key_type_recheck_interval) {}

  domain::Judgement probe(const DomainConfig& d, const domain::DomainHistory& history) override {
    refresh_self_test();
    domain::DomainProbeSettings s;
    s.timeout = d.timeout;
    s.smtp_port = config_.smtp.port;
    s.check_dane = d.check_dane;
    s.check_mtasts = d.check_mtasts;
    s.check_tlsrpt = d.check_tlsrpt;
    s.probe_special_addresses = config_.smtp.probe_special_addresses;
    // Without sharing every address is probed anew (max age 0), and still counted.
    s.observation_max_age = config_.smtp.share_observations ? d.interval : Millis{0};
    domain::DomainProbeSeams seams{*resolver_, starttls_, *webpki_, *fetcher_, clock_,
                                   &observations_, &key_type_answers_};
    const auto observation = domain::observe_domain(d.name, s, seams);
    // A verdict published before the first self-test ends could be a wrong trust anchor's
    // "bogus" (right after start or a reload): wait for it, as long as it may take at most.
    {
      std::unique_lock lock(mu_);
      tested_cv_.wait_for(lock, kFirstSelfTestTimeout, [this] { return tested_.load(); });
    }
    const auto rrsets = domain::observed_rrsets(observation);
    // A resolver that stopped validating since the last self-test (an upstream that began to
    // strip DNSSEC) shows first as bogus answers: confirm those with a fresh self-test rather
    // than wait up to kSelfTestInterval, so that the domain is not blamed in the meantime.
    if (looks_bogus(rrsets)) refresh_self_test(kSelfTestRetry);
    domain::ResolverObservation resolver{resolver_self_test_state(), std::nullopt};
    // Lookups without an answer: does the resolver answer anything at all (O1)? The resolver
    // caps this lookup at its lookup_timeout too.
    if (domain::has_unanswered_lookup(rrsets)) {
      resolver.reachability = domain::check_resolver_answers(
          *resolver_, config_.resolver.self_test_secure_name, Deadline::after(kReachabilityTimeout));
    }
    return domain::judge(observation, resolver, history, clock_.now());
  }

  std::optional<bool> resolver_validating() override {
    refresh_self_test();
    if (!tested_.load()) return std::nullopt;
    return validating_.load();
  }

  std::shared_ptr<const smtp::SmtpSessionCounter> smtp_sessions() const override {
    return sessions_;
  }

  domain::ResolverSelfTestState resolver_self_test() override {
    refresh_self_test();
    return resolver_self_test_state();
  }

  // Runs the first self-test on a thread of its own; probes meanwhile do not start another.
  void first_self_test_in_background() {
    {
      std::lock_guard lock(mu_);
      testing_ = true;
    }
    first_self_test_ = std::jthread([this] {
      log_first_self_test();
      std::lock_guard lock(mu_);
      testing_ = false;
    });
  }

  void log_first_self_test() {
    std::string reason;
    if (self_test(&reason, kFirstSelfTestTimeout)) {
      spdlog::info("resolver validates DNSSEC: {}", reason);
    } else {
      // Not fatal: the exporter runs and says so in mailtls_resolver_dnssec_validating.
      spdlog::error(
          "resolver DNSSEC self-test failed: {}; probes give no DNSSEC-dependent "
          "verdict until it passes",
          reason);
    }
  }

  // Runs the self-test now; false with the reason when the resolver does not validate.
  bool self_test(std::string* reason,
                 std::chrono::milliseconds timeout = std::chrono::seconds(15)) {
    auto result = dns::run_resolver_self_test(*resolver_, config_.resolver, Deadline::after(timeout));
    std::lock_guard lock(mu_);
    validating_ = result.validating;
    tested_ = true;
    reason_ = result.reason;
    last_self_test_ = std::chrono::steady_clock::now();
    if (reason) *reason = result.reason;
    tested_cv_.notify_all();
    return result.validating;
  }

 private:
  static smtp::StarttlsSettings make_settings(const Config& c) {
    smtp::StarttlsSettings s;
    s.ehlo_name = c.smtp.ehlo_name;
    s.port = c.smtp.port;
    return s;
  }
  static smtp::PolitenessSettings make_politeness(const Config& c) {
    smtp::PolitenessSettings p;
    p.max_sessions = static_cast<std::size_t>(c.smtp.max_sessions_per_address);
    p.min_gap = c.smtp.min_session_gap;
    return p;
  }
  static bool looks_bogus(const std::vector<domain::RrsetStatus>& rrsets) {
    for (const auto& s : rrsets) {
      if (s.security == dns::Security::kBogus) return true;
    }
    return false;
  }
  // Runs the self-test when the last one is older than `interval` (by default: 10 minutes
  // after a pass, 1 minute after a failure) and none runs now.
  void refresh_self_test(
      std::optional<std::chrono::steady_clock::duration> interval = std::nullopt) {
    {
      std::lock_guard lock(mu_);
      const auto wait = interval             ? *interval
                        : validating_.load() ? kSelfTestInterval
                                             : kSelfTestRetry;
      if (std::chrono::steady_clock::now() - last_self_test_ < wait || testing_) return;
      testing_ = true;
    }
    std::string reason;
    if (!self_test(&reason)) spdlog::error("resolver DNSSEC self-test failed: {}", reason);
    std::lock_guard lock(mu_);
    testing_ = false;
  }
  domain::ResolverSelfTestState resolver_self_test_state() const {
    domain::ResolverSelfTestState s;
    std::lock_guard lock(mu_);
    if (!tested_.load()) return s;
    s.validation = validating_.load() ? domain::ResolverValidation::kValidating
                                      : domain::ResolverValidation::kNotValidating;
    s.reason = reason_;
    return s;
  }

  const Config config_;
  std::unique_ptr<dns::UnboundResolver> resolver_;
  std::shared_ptr<const tls::WebPkiVerifier> webpki_;
  std::unique_ptr<mtasts::CurlPolicyFetcher> fetcher_;
  smtp::TcpConnector connector_;
  smtp::StarttlsProber starttls_;
  std::shared_ptr<smtp::SmtpSessionCounter> sessions_;
  smtp::StarttlsObservationCache observations_;
  smtp::KeyTypeAnswers key_type_answers_;  // kept per prober: a reload starts with none
  SystemClock clock_;
  std::atomic<bool> validating_{false};
  std::atomic<bool> tested_{false};  // a self-test has finished
  mutable std::mutex mu_;
  std::condition_variable tested_cv_;  // notified (under mu_) when a self-test has finished
  std::string reason_;
  std::chrono::steady_clock::time_point last_self_test_{};
  bool testing_ = false;
  // Last member: joined (the self-test ends within its timeout) before the others go away.
  std::jthread first_self_test_;
};

}  // namespace

std::shared_ptr<DomainProber> make_real_domain_prober(
    const Config& config, std::string* error, FirstSelfTest first,
    std::shared_ptr<smtp::SmtpSessionCounter> sessions) {
  auto resolver = dns::UnboundResolver::create(config.resolver);
  if (!resolver.resolver) {
    if (error) *error = "resolver: " + resolver.error;
    return nullptr;
  }
  tls::TrustStoreConfig trust;
  trust.extra_ca_files = config.tls.ca_files;
  auto webpki = tls::WebPkiVerifier::create(trust);
  if (!webpki.verifier) {
    if (error) *error = "trust store: " + webpki.error;
    return nullptr;
  }
  mtasts::PolicyFetcherSettings fs;
  fs.port = config.mtasts.port;
  fs.extra_ca_files = config.tls.ca_files;
  fs.connect_special_addresses = config.smtp.probe_special_addresses;
  auto fetcher = mtasts::CurlPolicyFetcher::create(*resolver.resolver, fs);
  if (!fetcher.fetcher) {
    if (error) *error = "MTA-STS fetcher: " + fetcher.error;
    return nullptr;
  }
  auto prober = std::make_shared<RealDomainProber>(config, std::move(resolver.resolver),
                                                   std::move(webpki.verifier),
                                                   std::move(fetcher.fetcher), std::move(sessions));
  if (first == FirstSelfTest::kInBackground) {
    prober->first_self_test_in_background();
  } else {
    prober->log_first_self_test();
  }
  return prober;
}

}  // namespace mailtls::exporter
