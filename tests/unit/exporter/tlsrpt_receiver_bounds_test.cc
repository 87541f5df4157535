// The TLS-RPT receiver against what anyone may POST (issue 17): label cardinality bounded by the
// configuration (finding 4), no state write for refused reports and one save shared by reports
// that arrive together (finding 10), content-aware dedup (finding 11). Driven through
// handle_post with an in-memory state, a counting save and a settable clock.

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <atomic>
#include <condition_variable>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>
#include <thread>

#include <unistd.h>

#include "exporter/tlsrpt/tlsrpt_receiver.h"

namespace mailtls::exporter {
namespace {

using nlohmann::json;

json rfc_example() {
  static const json example = [] {  // read once: the cardinality test builds 10,000 reports
    std::ifstream in(std::string(MAILTLS_SOURCE_DIR) + "/tests/data/tlsrpt/rfc8460-appendix-b.json");
    std::stringstream s;
    s << in.rdbuf();
    return json::parse(s.str());
  }();
  return example;
}

HttpRequest post_of(const json& doc) {
  HttpRequest req;
  req.method = "POST";
  req.path = "/tlsrpt";
  req.headers.emplace("Content-Type", "application/tlsrpt+json");
  req.body = doc.dump();
  req.remote_addr = "127.0.0.1";
  return req;
}

json report(const std::string& organization, const std::string& id, const std::string& domain) {
  json doc = rfc_example();
  doc["organization-name"] = organization;
  doc["report-id"] = id;
  doc["policies"][0]["policy"]["policy-domain"] = domain;
  return doc;
}

struct Series {
  std::size_t count = 0;
  std::set<std::string> organizations, policy_domains;
  double value(const std::string& family, const std::string& label, const std::string& v) const {
    auto it = values.find(family + "{" + label + "=" + v + "}");
    return it == values.end() ? -1 : it->second;
  }
  std::map<std::string, double> values;  // family{label=value} summed, for the single-label ones
};

Series collect(const TlsRptReceiver& r) {
  Series s;
  for (const auto& family : r.Collect()) {
    for (const auto& m : family.metric) {
      ++s.count;
      for (const auto& l : m.label) {
        if (l.name == "organization") s.organizations.insert(l.value);
        if (l.name == "policy_domain") s.policy_domains.insert(l.value);
        s.values[family.name + "{" + l.name + "=" + l.value + "}"] += m.counter.value;
      }
    }
  }
  return s;
}

class TlsRptReceiverBounds : public ::testing::Test {
 protected:
  TlsRptReceiverBounds() : state_(StateStore::in_memory()) {}

  std::unique_ptr<TlsRptReceiver> receiver(TlsRptReceiverOptions o = {}) {
    TlsRptReceiverHooks hooks;
    hooks.save = [this](std::string* err) {
      ++saves_;
      return state_.save(err);
    };
    hooks.now = [this] { return now_.load(); };
    auto r = std::make_unique<TlsRptReceiver>(o, state_, hooks);
    r->set_monitored_domains({"a.example", "B.Example."});
    return r;
  }

  StateStore state_;
  std::atomic<int> saves_{0};
  std::atomic<double> now_{1.7e9};
};

// Finding 4: 10,000 organizations and 10,000 policy domains add at most the configured domains
// (+ "other") and max_organizations (+ the known ones, + "other") label values.
TEST_F(TlsRptReceiverBounds, ForgedOrganizationsAndPolicyDomainsDoNotGrowTheSeries) {
  TlsRptReceiverOptions o;
  o.known_organizations = {"Google Inc."};
  o.max_organizations = 10;
  o.max_body_bytes = 32 << 20;  // 10,000 policies as plain JSON
  o.accept_unsigned_mail = true;  // the mailed part below is about labels, not DKIM
  auto r = receiver(o);
  ASSERT_EQ(r->handle_post(post_of(report("Real Reporter", "real-1", "a.example"))).status, 200);
  json many = report("Many Domains", "many", "x.example");
  const json policy = many["policies"][0];
  many["policies"] = json::array();
  for (int i = 0; i < 10'000; ++i) {
    json p = policy;
    p["policy"]["policy-domain"] = "d" + std::to_string(i) + ".forged.example";
    many["policies"].push_back(p);
  }
  ASSERT_EQ(r->handle_post(post_of(many)).status, 200);
  for (int i = 0; i < 10'000; ++i) {
    const std::string domain = i % 2 ? "a.example" : "f" + std::to_string(i) + ".forged.example";
    ASSERT_EQ(r->handle_post(post_of(report("Forged " + std::to_string(i), "id", domain))).status, 200) << i;
  }
  ASSERT_EQ(r->handle_post(post_of(report("Google Inc.", "g-1", "b.example"))).status, 200);
  // The mail path shares the bound: more distinct organizations, mailed into the Maildir.
  const auto maildir = std::filesystem::temp_directory_path() /
                       ("tlsrpt-bounds-" + std::to_string(::getpid()) + "-" + std::to_string(now_.load()));
  std::filesystem::create_directories(maildir / "new");
  for (int i = 0; i < 300; ++i) {
    std::ofstream(maildir / "new" / ("m" + std::to_string(i))) << "From: r@x.example\nContent-Type: application/tlsrpt+json\n\n"
                                                               << report("Mailed " + std::to_string(i), "m", "a.example").dump();
  }
  EXPECT_EQ(r->import_maildir(maildir.string()), 300);
  EXPECT_TRUE(std::filesystem::is_empty(maildir / "rejected"));
  std::filesystem::remove_all(maildir);
  const Series s = collect(*r);
  EXPECT_THAT(s.policy_domains, ::testing::UnorderedElementsAre("a.example", "b.example", "other"));
  EXPECT_LE(s.organizations.size(), 10u + 1 + 1);  // the cap, "Google Inc.", "other"
  EXPECT_TRUE(s.organizations.count("Real Reporter"));  // came first, not pushed out
  EXPECT_TRUE(s.organizations.count("Google Inc."));    // known: never "other"
  // Per organization and domain: 4 policy types x 2 results + 12 result types; + reports_total;
  // + the mailed-report DKIM series (2 pass, 1 deferred) and the accept_unsigned_mail gauge.
  EXPECT_LE(s.count, 12u * 3 * 20 + 12 + 4);
  EXPECT_EQ(s.value("mailtls_tlsrpt_reports_total", "organization", "other"), 10'000 - 9 + 1 + 300);
  // Everything was counted: 10,000 policies about unmonitored domains went to "other".
  EXPECT_GE(s.value("mailtls_tlsrpt_report_failures_total", "policy_domain", "other"), 10'000 * 303.0);
}

// Reports about domains we do not monitor cannot take the organization slots.
TEST_F(TlsRptReceiverBounds, OnlyReportsAboutMonitoredDomainsTakeOrganizationSlots) {
  TlsRptReceiverOptions o;
  o.max_organizations = 2;
  auto r = receiver(o);
  for (int i = 0; i < 50; ++i) {
    ASSERT_EQ(r->handle_post(post_of(report("Forged " + std::to_string(i), "x", "elsewhere.example"))).status, 200);
  }
  ASSERT_EQ(r->handle_post(post_of(report("Real", "r", "a.example"))).status, 200);
  const Series s = collect(*r);
  EXPECT_THAT(s.organizations, ::testing::UnorderedElementsAre("Real", "other"));
}

// Organizations that stopped reporting lose their series and their slot after the retention.
TEST_F(TlsRptReceiverBounds, UnknownLabelsExpire) {
  TlsRptReceiverOptions o;
  o.max_organizations = 3;
  o.label_retention_seconds = 30 * 86400.0;
  auto r = receiver(o);
  for (int i = 0; i < 3; ++i) {
    ASSERT_EQ(r->handle_post(post_of(report("Forged " + std::to_string(i), "x", "a.example"))).status, 200);
  }
  ASSERT_EQ(r->handle_post(post_of(report("Real", "r1", "a.example"))).status, 200);
  EXPECT_FALSE(collect(*r).organizations.count("Real"));
  now_ = now_ + 20 * 86400.0;
  ASSERT_EQ(r->handle_post(post_of(report("Forged 0", "y", "a.example"))).status, 200);  // still reporting
  now_ = now_ + 15 * 86400.0;
  ASSERT_EQ(r->handle_post(post_of(report("Real", "r2", "a.example"))).status, 200);
  const Series s = collect(*r);
  EXPECT_TRUE(s.organizations.count("Real"));
  EXPECT_TRUE(s.organizations.count("Forged 0"));
  EXPECT_FALSE(s.organizations.count("Forged 1"));
  EXPECT_FALSE(s.organizations.count("Forged 2"));
  // And the state holds no counter of theirs any more.
  EXPECT_EQ(state_.section("tlsrpt_counters").dump().find("Forged 1"), std::string::npos);
}

// Finding 10: refused reports and duplicates do not write the state; accepted ones do, once.
TEST_F(TlsRptReceiverBounds, OnlyAcceptedReportsSaveTheState) {
  auto r = receiver();
  HttpRequest garbage = post_of(json::object());
  garbage.body = "{not json";
  for (int i = 0; i < 20; ++i) EXPECT_EQ(r->handle_post(garbage).status, 400);
  r->count_refused_by_server("too_large");
  EXPECT_EQ(saves_, 0);
  EXPECT_EQ(r->handle_post(post_of(report("Real", "r1", "a.example"))).status, 200);
  EXPECT_EQ(saves_, 1);
  EXPECT_EQ(r->handle_post(post_of(report("Real", "r1", "a.example"))).status, 200);  // a resend
  EXPECT_EQ(saves_, 1);
  EXPECT_EQ(collect(*r).value("mailtls_tlsrpt_reports_rejected_total", "reason", "bad_json"), 20);
}

// Finding 10: reports that arrive while a save runs are saved together by one more save, and
// none is answered before a save that includes it has ended.
TEST_F(TlsRptReceiverBounds, ConcurrentReportsShareOneSave) {
  std::mutex mu;
  std::condition_variable cv;
  bool release = false;
  int in_save = 0;
  std::vector<std::string> saved_ids;  // report ids in the state when each save ran
  TlsRptReceiverHooks hooks;
  hooks.save = [&](std::string*) {
    std::unique_lock lock(mu);
    ++in_save;
    saved_ids.push_back(state_.section("tlsrpt_seen").dump());
    cv.notify_all();
    cv.wait(lock, [&] { return release; });
    return true;
  };
  TlsRptReceiver r({}, state_, hooks);
  r.set_monitored_domains({"a.example"});
  std::atomic<int> answered{0};
  std::vector<std::thread> senders;
  senders.emplace_back([&] {
    EXPECT_EQ(r.handle_post(post_of(report("Org", "first", "a.example"))).status, 200);
    ++answered;
  });
  {
    std::unique_lock lock(mu);
    cv.wait(lock, [&] { return in_save == 1; });  // the first save is running and held
  }
  for (int i = 0; i < 7; ++i) {
    senders.emplace_back([&, i] {
      EXPECT_EQ(r.handle_post(post_of(report("Org", "next-" + std::to_string(i), "a.example"))).status, 200);
      ++answered;
    });
  }
  // All seven are counted in memory (their dedup keys are in the state) before any is answered.
  for (;;) {
    if (state_.section("tlsrpt_seen").size() == 8) break;
    std::this_thread::yield();
  }
  EXPECT_EQ(answered, 0);
  {
    std::lock_guard lock(mu);
    release = true;
  }
  cv.notify_all();
  for (auto& t : senders) t.join();
  EXPECT_EQ(answered, 8);
  EXPECT_EQ(in_save, 2);  // one for the first, one shared by the seven
  EXPECT_EQ(json::parse(saved_ids[1]).size(), 8u);
}

// Finding 10: when the shared save fails, every report of it is answered 503 and not counted.
TEST_F(TlsRptReceiverBounds, AFailedSaveUndoesTheReportsItHeld) {
  TlsRptReceiverHooks hooks;
  bool fail = true;
  hooks.save = [&](std::string* err) {
    if (fail) *err = "disk full";
    return !fail;
  };
  TlsRptReceiver r({}, state_, hooks);
  r.set_monitored_domains({"a.example"});
  EXPECT_EQ(r.handle_post(post_of(report("Org", "1", "a.example"))).status, 503);
  EXPECT_EQ(collect(r).value("mailtls_tlsrpt_reports_total", "organization", "Org"), -1);
  fail = false;
  EXPECT_EQ(r.handle_post(post_of(report("Org", "1", "a.example"))).status, 200);
  EXPECT_EQ(r.handle_post(post_of(report("Org", "1", "a.example"))).status, 200);
  EXPECT_EQ(collect(r).value("mailtls_tlsrpt_reports_total", "organization", "Org"), 1);
}

// Finding 11: a forged report under the real report's id does not suppress the real one, an
// exact resend is still a duplicate, and the dedup set is bounded.
TEST_F(TlsRptReceiverBounds, DedupIsContentAwareAndBounded) {
  TlsRptReceiverOptions o;
  o.max_seen_reports = 100;
  auto r = receiver(o);
  json forged = report("Org", "2026-12-01T00:00:00Z_a.example", "a.example");
  forged["policies"][0]["summary"]["total-failure-session-count"] = 0;
  forged["policies"][0].erase("failure-details");
  const json real = report("Org", "2026-12-01T00:00:00Z_a.example", "a.example");
  EXPECT_EQ(r->handle_post(post_of(forged)).status, 200);
  const auto answer = r->handle_post(post_of(real));
  EXPECT_EQ(answer.status, 200);
  EXPECT_EQ(answer.body, "accepted\n");
  EXPECT_EQ(r->handle_post(post_of(real)).body, "duplicate, already counted\n");
  const Series s = collect(*r);
  EXPECT_EQ(s.value("mailtls_tlsrpt_reports_total", "organization", "Org"), 2);
  EXPECT_EQ(s.value("mailtls_tlsrpt_report_failures_total", "organization", "Org"), 303);
  for (int i = 0; i < 150; ++i) {
    ASSERT_EQ(r->handle_post(post_of(report("Org", "n" + std::to_string(i), "a.example"))).status, 200);
  }
  EXPECT_EQ(state_.section("tlsrpt_seen").size(), 100u);
}

// Finding 5: while a gzip body that may inflate to 20 MiB is parsed, another one does not fit the
// budget (503, Retry-After), but an ordinary report does.
TEST_F(TlsRptReceiverBounds, ParseBudgetDefersLargeReportsButNotSmallOnes) {
  std::mutex mu;
  std::condition_variable cv;
  bool entered = false, release = false;
  TlsRptReceiverHooks hooks;
  hooks.parsing = [&] {
    std::unique_lock lock(mu);
    if (entered) return;  // only the first parse is held
    entered = true;
    cv.notify_all();
    cv.wait(lock, [&] { return release; });
  };
  TlsRptReceiverOptions o;
  o.parse_budget_bytes = 64 << 20;  // each 20 KB gzip counts as 2 x 20 MiB
  TlsRptReceiver r(o, state_, hooks);
  r.set_monitored_domains({"a.example"});
  HttpRequest bomb = post_of(json::object());
  bomb.headers = {{"Content-Type", "application/tlsrpt+gzip"}};
  bomb.body = std::string("\x1f\x8b", 2) + std::string(20 << 10, 'x');  // only its size matters here
  std::thread first([&] { EXPECT_EQ(r.handle_post(bomb).status, 400); });
  {
    std::unique_lock lock(mu);
    cv.wait(lock, [&] { return entered; });
  }
  const auto deferred = r.handle_post(bomb);
  EXPECT_EQ(deferred.status, 503);
  EXPECT_EQ(deferred.headers.count("Retry-After"), 1u);
  EXPECT_EQ(r.handle_post(post_of(report("Org", "small", "a.example"))).status, 200);
  {
    std::lock_guard lock(mu);
    release = true;
  }
  cv.notify_all();
  first.join();
  EXPECT_EQ(r.handle_post(bomb).status, 400);  // the budget is free again: parsed (and refused)
  EXPECT_EQ(collect(r).value("mailtls_tlsrpt_reports_rejected_total", "reason", "busy"), 1);
}

TEST_F(TlsRptReceiverBounds, AbsurdSessionCountsAreRefusedWithAReason) {
  auto r = receiver();
  json doc = report("Org", "big", "a.example");
  doc["policies"][0]["summary"]["total-failure-session-count"] = 18446744073709551615u;
  const auto answer = r->handle_post(post_of(doc));
  EXPECT_EQ(answer.status, 400);
  EXPECT_THAT(answer.body, ::testing::HasSubstr("total-failure-session-count"));
  EXPECT_EQ(collect(*r).value("mailtls_tlsrpt_reports_rejected_total", "reason", "schema"), 1);
}

}  // namespace
}  // namespace mailtls::exporter
