#pragma once
// A scripted MTA-STS PolicyFetcher for unit tests: returns a set result, or (hold_until_deadline)
// waits until the deadline first, as a policy host that never finishes would make the real one
// do. Thread-safe, so a probe may call it from a thread of its own.

#include <algorithm>
#include <chrono>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>

#include "probes/mtasts/policy_fetcher.h"

namespace mailtls::testing {

class FakePolicyFetcher final : public mtasts::PolicyFetcher {
 public:
  // A 200 text/plain answer with `body`.
  static mtasts::PolicyFetchResult served(std::string body) {
    mtasts::PolicyFetchResult r;
    r.ok = true;
    r.http_status = 200;
    r.content_type = "text/plain";
    r.body = std::move(body);
    r.body_sha256 = std::string(64, 'c');
    return r;
  }

  explicit FakePolicyFetcher(mtasts::PolicyFetchResult result, bool hold_until_deadline = false)
      : result_(std::move(result)), hold_(hold_until_deadline) {}

  mtasts::PolicyFetchResult fetch(std::string_view policy_domain, Deadline deadline) override {
    {
      std::lock_guard lock(mu_);
      ++calls_;
      last_domain_ = std::string(policy_domain);
      time_left_at_last_call_ = !deadline.expired();
    }
    if (hold_) {
      // Bounded by the caller's deadline, and by a minute for a caller that passes none.
      std::this_thread::sleep_until(
          std::min(deadline.at(), Deadline::Clock::now() + std::chrono::minutes(1)));
      mtasts::PolicyFetchResult r;
      r.failure = mtasts::PolicyFetchFailure::kTimeout;
      r.result_type = std::string(mtasts::rfc8460_result_type(r.failure));
      r.message = "timed out";
      return r;
    }
    return result_;
  }

  int calls() const {
    std::lock_guard lock(mu_);
    return calls_;
  }
  std::string last_domain() const {
    std::lock_guard lock(mu_);
    return last_domain_;
  }
  // Whether the deadline had not passed yet when fetch() was last called.
  bool time_left_at_last_call() const {
    std::lock_guard lock(mu_);
    return time_left_at_last_call_;
  }

 private:
  const mtasts::PolicyFetchResult result_;
  const bool hold_;
  mutable std::mutex mu_;
  int calls_ = 0;
  std::string last_domain_;
  bool time_left_at_last_call_ = false;
};

}  // namespace mailtls::testing
