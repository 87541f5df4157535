#include "probes/smtp/observation_cache.h"

#include <algorithm>

namespace mailtls::smtp {
namespace {

constexpr auto kWaitStep = std::chrono::seconds(1);

}  // namespace

bool shareable(const StarttlsResult& r) {
  switch (r.failure) {
    case StarttlsFailure::kConnectTimeout:
    case StarttlsFailure::kBannerTimeout:
    case StarttlsFailure::kTimeout: return false;
    default: return true;
  }
}

StarttlsObservationCache::StarttlsObservationCache(std::shared_ptr<SmtpSessionCounter> counter,
                                                   PolitenessSettings politeness)
    : counter_(std::move(counter)), gate_(politeness) {}

StarttlsResult StarttlsObservationCache::probe_and_count(const StarttlsProber& prober,
                                                         const std::string& ip_literal,
                                                         const std::string& sni_name,
                                                         Deadline deadline,
                                                         std::optional<tls::HandshakeKeyType> only) {
  const auto started = std::chrono::steady_clock::now();
  const AddressGate::Pass pass = gate_.enter(ip_literal, deadline);
  if (counter_) counter_->count_wait(std::chrono::steady_clock::now() - started);
  if (!pass) {
    StarttlsResult r;
    r.address = ip_literal;
    r.port = prober.settings().port;
    r.family = address_family(ip_literal);
    r.sni_name = sni_name;
    r.failure = StarttlsFailure::kConnectTimeout;
    r.message = "the probe ran out of time waiting for its turn at this address (politeness: "
                "smtp.max_sessions_per_address, smtp.min_session_gap)";
    return r;
  }
  if (counter_) counter_->count_session();
  return prober.probe(ip_literal, sni_name, deadline, only);
}

StarttlsResult StarttlsObservationCache::observe(const StarttlsProber& prober,
                                                 const std::string& ip_literal,
                                                 const std::string& sni_name, Deadline deadline,
                                                 Duration max_age, const std::string& requester,
                                                 std::optional<tls::HandshakeKeyType> only) {
  if (max_age <= Duration::zero()) {
    return probe_and_count(prober, ip_literal, sni_name, deadline, only);
  }
  const ObservationKey key{ip_literal, prober.settings().port, sni_name,
                           only ? std::string(tls::to_string(*only)) : std::string()};
  std::unique_lock lock(mu_);
  for (;;) {
    auto& e = entries_[key];
    e.max_age = std::min(e.max_age, max_age);
    const auto now = std::chrono::steady_clock::now();
    if (e.result && now - e.observed_at <= e.max_age && !e.used_by.contains(requester)) {
      e.used_by.insert(requester);
      if (counter_) counter_->count_reuse();
      // The domain's copy is made outside the lock (the result is immutable and shared), so
      // domains sharing an endpoint do not queue behind each other's copies.
      const std::shared_ptr<const StarttlsResult> shared = e.result;
      lock.unlock();
      return *shared;
    }
    if (!e.in_progress) break;
    // Out of time: the probe below ends at once with the timeout of its first phase.
    if (now >= deadline.at()) break;
    // Another domain's probe is talking to this endpoint now: wait for its observation (in
    // steps, so a far-away deadline never overflows the wait).
    done_.wait_until(lock, std::min(deadline.at(), now + kWaitStep));
  }
  auto& e = entries_[key];
  e.in_progress = true;
  e.result.reset();
  lock.unlock();

  StarttlsResult r;
  try {
    r = probe_and_count(prober, ip_literal, sni_name, deadline, only);
  } catch (...) {
    lock.lock();
    entries_[key].in_progress = false;
    done_.notify_all();
    throw;
  }

  std::shared_ptr<const StarttlsResult> kept;
  if (shareable(r)) kept = std::make_shared<const StarttlsResult>(r);  // copied before locking
  lock.lock();
  auto& done = entries_[key];
  done.in_progress = false;
  done.used_by.clear();
  if (kept) {
    done.result = std::move(kept);
    done.observed_at = std::chrono::steady_clock::now();
    done.used_by.insert(requester);
  }
  if (entries_.size() > sweep_at_) sweep_expired(std::chrono::steady_clock::now());
  done_.notify_all();
  return r;
}

void StarttlsObservationCache::sweep_expired(std::chrono::steady_clock::time_point now) {
  std::erase_if(entries_, [now](const auto& kv) {
    const Entry& e = kv.second;
    return !e.in_progress && (!e.result || now - e.observed_at > e.max_age);
  });
  sweep_at_ = std::max<std::size_t>(1024, entries_.size() * 2);
}

std::size_t StarttlsObservationCache::size() const {
  std::lock_guard lock(mu_);
  return entries_.size();
}

}  // namespace mailtls::smtp
