#pragma once
// A scripted Resolver for unit tests: answers are set per (name, type); anything not scripted
// is a secure NXDOMAIN. Thread-safe, so probes that fan out can use it too.

#include <map>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

#include "probes/dns/records.h"
#include "probes/dns/resolver.h"

namespace mailtls::testing {

class FakeResolver final : public dns::Resolver {
 public:
  // Records of one type at a name, with the given security.
  FakeResolver& set(std::string name, dns::RrType type, std::vector<std::string> rdata,
                    dns::Security sec = dns::Security::kSecure, std::uint32_t ttl = 3600) {
    dns::Answer a;
    a.qname = name;
    a.type = type;
    a.canonical_name = name;
    a.outcome = rdata.empty() ? dns::Outcome::kNoData : dns::Outcome::kData;
    a.security = sec;
    a.rcode = 0;
    a.rdata = std::move(rdata);
    a.ttl = ttl;
    if (sec == dns::Security::kBogus) {
      a.reason = "scripted bogus";
    }
    return set_answer(std::move(a));
  }
  FakeResolver& set_answer(dns::Answer a) {
    std::lock_guard lock(mu_);
    answers_[{a.qname, a.type}] = std::move(a);
    return *this;
  }
  // A failure for (name, type): SERVFAIL-like indeterminate, or bogus.
  FakeResolver& fail(std::string name, dns::RrType type, dns::Security sec,
                     std::string reason = "scripted failure") {
    dns::Answer a;
    a.qname = name;
    a.type = type;
    a.canonical_name = name;
    a.outcome = dns::Outcome::kError;
    a.security = sec;
    a.rcode = sec == dns::Security::kBogus ? 0 : 2;
    a.reason = std::move(reason);
    return set_answer(std::move(a));
  }

  // Unscripted questions fail like those to an unreachable resolver (SERVFAIL, indeterminate)
  // instead of the default secure NXDOMAIN.
  FakeResolver& unreachable_for_unscripted(bool on = true) {
    std::lock_guard lock(mu_);
    unreachable_ = on;
    return *this;
  }

  dns::Answer lookup(std::string_view name, dns::RrType type, Deadline) override {
    std::lock_guard lock(mu_);
    ++lookups_;
    auto it = answers_.find({std::string(name), type});
    if (it != answers_.end()) return it->second;
    dns::Answer a;
    a.qname = std::string(name);
    a.type = type;
    a.canonical_name = a.qname;
    if (unreachable_) {
      a.outcome = dns::Outcome::kError;
      a.security = dns::Security::kIndeterminate;
      a.rcode = 2;
      a.reason = "scripted: no server reachable";
      return a;
    }
    a.outcome = dns::Outcome::kNxDomain;
    a.security = dns::Security::kSecure;
    a.rcode = 3;
    return a;
  }

  int lookups() const {
    std::lock_guard lock(mu_);
    return lookups_;
  }

 private:
  mutable std::mutex mu_;
  std::map<std::pair<std::string, dns::RrType>, dns::Answer> answers_;
  int lookups_ = 0;
  bool unreachable_ = false;
};

}  // namespace mailtls::testing
