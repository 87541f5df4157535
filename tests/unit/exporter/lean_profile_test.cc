// The lean metrics profile (exporter/exposition/lean_profile.h): how many series a healthy
// domain with one MX host costs in each profile, and that anything wrong brings the detail back.

#include "exporter/exposition/lean_profile.h"

#include <gtest/gtest.h>

#include <chrono>
#include <functional>
#include <iostream>
#include <map>
#include <optional>
#include <set>
#include <sstream>
#include <string>

#include "exporter/exposition/domain_metrics.h"
#include "exporter/exposition/handshake_histograms.h"
#include "exporter/exposition/metrics_text.h"
#include "probes/base/clock.h"
#include "tests/unit/exporter/golden_reports.h"

namespace mailtls::exporter {
namespace {

using mailtls::testing::golden_healthy_single_mx_report;
using mailtls::testing::golden_reports;

// The sample lines of the exposition text: one per series (a histogram: one per bucket, _sum
// and _count).
std::vector<std::string> series_lines(const std::vector<prometheus::MetricFamily>& families) {
  std::vector<std::string> lines;
  std::istringstream in(render_metrics_families(families));
  for (std::string line; std::getline(in, line);) {
    if (!line.empty() && line[0] != '#') lines.push_back(line);
  }
  return lines;
}

// What the exporter stores for one probe of the domain in `profile` (run_probe()).
std::vector<prometheus::MetricFamily> stored(const domain::DomainReport& r, MetricsProfile profile) {
  auto families = domain_metrics(r, profile);
  HandshakeHistograms handshakes;
  if (profile == MetricsProfile::kFull) {
    if (auto h = handshakes.observe(r)) families.push_back(std::move(*h));
  }
  return families;
}

std::set<std::string> names(const std::vector<prometheus::MetricFamily>& families) {
  std::set<std::string> out;
  for (const auto& f : families) out.insert(f.name);
  return out;
}

bool has_zero_state(const std::vector<prometheus::MetricFamily>& families) {
  for (const auto& f : families) {
    if (f.name != "mailtls_dane_status" && f.name != "mailtls_mtasts_status" &&
        f.name != "mailtls_mtasts_sender_cache_status" && f.name != "mailtls_dane_rollover_phase") {
      continue;
    }
    for (const auto& m : f.metric) {
      if (m.gauge.value != 1) return true;
    }
  }
  return false;
}

// The value of the series of `family` whose labels include all of `labels`; empty when none.
std::optional<double> value_of(const std::vector<prometheus::MetricFamily>& families, const std::string& family,
                               const std::map<std::string, std::string>& labels) {
  for (const auto& f : families) {
    if (f.name != family) continue;
    for (const auto& m : f.metric) {
      std::size_t found = 0;
      for (const auto& l : m.label) found += labels.count(l.name) && labels.at(l.name) == l.value;
      if (found == labels.size()) return m.gauge.value;
    }
  }
  return std::nullopt;
}

// F2/T11: stale records and combinations in the full profile; in the lean profile only while
// something is wrong (one stale record may be a pre-published next key; two are wrong).
TEST(LeanProfile, StaleRecordsAndCombinationsAreDetail) {
  auto r = golden_healthy_single_mx_report();
  r.mx[0].tlsa[1].stale = true;  // the next key
  const std::string mx = r.mx[0].host;
  auto full = domain_metrics(r, MetricsProfile::kFull);
  EXPECT_EQ(value_of(full, "mailtls_dane_tlsa_stale_records", {{"mx", mx}}), 1);
  EXPECT_EQ(value_of(full, "mailtls_dane_tlsa_group_stale", {{"mx", mx}, {"usage", "3"}, {"selector", "1"}, {"matching_type", "1"}}), 0);
  ASSERT_FALSE(needs_detail(r));
  EXPECT_FALSE(names(domain_metrics(r, MetricsProfile::kLean)).count("mailtls_dane_tlsa_stale_records"));

  // An old DANE-TA record left behind: a second stale record, and a combination of its own.
  auto old = r.mx[0].tlsa[1];  // as the next key: usable, stale, matching at no address
  old.record.usage = 2;
  r.mx[0].tlsa.push_back(old);
  r.mx[0].tlsa_usable = 3;
  r.mx[0].stale_groups = {{2, 1, 1}};
  ASSERT_TRUE(needs_detail(r));
  for (const auto profile : {MetricsProfile::kFull, MetricsProfile::kLean}) {
    const auto families = domain_metrics(r, profile);
    EXPECT_EQ(value_of(families, "mailtls_dane_tlsa_stale_records", {{"mx", mx}}), 2);
    EXPECT_EQ(value_of(families, "mailtls_dane_tlsa_group_stale", {{"mx", mx}, {"usage", "2"}, {"selector", "1"}, {"matching_type", "1"}}), 1);
    EXPECT_EQ(value_of(families, "mailtls_dane_tlsa_group_stale", {{"mx", mx}, {"usage", "3"}, {"selector", "1"}, {"matching_type", "1"}}), 0);
  }
}

// Issue 19: at most 20 series for a healthy domain with one MX host (one IPv4, one IPv6
// address; DANE with a current and a next key, MTA-STS enforce, TLS-RPT, six signed RRsets).
TEST(LeanProfile, HealthySingleMxDomainHasAtMost20Series) {
  const auto r = golden_healthy_single_mx_report();
  ASSERT_FALSE(needs_detail(r));
  const auto full = series_lines(stored(r, MetricsProfile::kFull));
  const auto lean = series_lines(stored(r, MetricsProfile::kLean));
  std::cout << "healthy single-MX domain: " << full.size() << " series in the full profile, "
            << lean.size() << " in the lean profile\n";
  for (const auto& l : lean) std::cout << "  lean: " << l << "\n";
  EXPECT_LE(lean.size(), 20u);
  EXPECT_LT(lean.size(), full.size());
  // Every lean series is one of the full profile, value included: lean cuts, it never invents.
  const std::set<std::string> full_set(full.begin(), full.end());
  for (const auto& l : lean) EXPECT_TRUE(full_set.count(l)) << l;
}

TEST(LeanProfile, HealthyDomainKeepsWhatTheAlertsCompareWithTheirThresholds) {
  const auto lean = stored(golden_healthy_single_mx_report(), MetricsProfile::kLean);
  const auto kept = names(lean);
  for (const char* n : {"mailtls_probe_success", "mailtls_dane_status", "mailtls_mtasts_status",
                        "mailtls_mtasts_sender_cache_status", "mailtls_dane_rollover_phase",
                        "mailtls_dane_rollover_ready", "mailtls_cert_not_after_timestamp_seconds",
                        "mailtls_cert_pkix_valid", "mailtls_dnssec_signature_expiry_timestamp_seconds",
                        "mailtls_smtp_phase_duration_seconds", "mailtls_tlsrpt_record_valid",
                        "mailtls_mtasts_policy_cert_not_after_timestamp_seconds"}) {
    EXPECT_TRUE(kept.count(n)) << n;
  }
  for (const char* n : {"mailtls_starttls_handshake_seconds", "mailtls_dane_tlsa_record_match",
                        "mailtls_cert_info", "mailtls_tls_info", "mailtls_dnssec_secure"}) {
    EXPECT_FALSE(kept.count(n)) << n;
  }
  EXPECT_FALSE(has_zero_state(lean));
  for (const auto& f : lean) {
    if (f.name == "mailtls_dnssec_signature_expiry_timestamp_seconds") {
      // the earliest of the six: the A and AAAA RRsets of the MX host, 60 h; the first of them
      ASSERT_EQ(f.metric.size(), 1u);
      EXPECT_EQ(f.metric[0].label[2].value, "A");
    }
    if (f.name == "mailtls_smtp_phase_duration_seconds") {
      ASSERT_EQ(f.metric.size(), 2u);
      for (const auto& m : f.metric) EXPECT_EQ(m.label.back().value, "tls_handshake");
    }
  }
}

// The lean families are built directly (the families a healthy domain does not keep are never
// built): the same text as cutting the full families down, for every golden report, healthy or
// not.
TEST(LeanProfile, BuiltDirectlyAsTheCutOfTheFullFamilies) {
  auto reports = golden_reports();
  reports.push_back(golden_healthy_single_mx_report());
  for (const auto& r : reports) {
    EXPECT_EQ(render_metrics_families(domain_metrics(r, MetricsProfile::kLean)),
              render_metrics_families(lean_families(domain_metrics(r, MetricsProfile::kFull), r)))
        << r.domain;
  }
  EXPECT_TRUE(lean_family("mailtls_dane_status"));
  EXPECT_FALSE(lean_family("mailtls_dane_tlsa_record_match"));
}

// A domain with something wrong keeps every family of the full profile but the histogram, and
// its state sets only the current state.
TEST(LeanProfile, SomethingWrongBringsTheDetailBack) {
  int detailed = 0;
  for (const auto& r : golden_reports()) {
    if (!r.probe_success || !needs_detail(r)) continue;
    ++detailed;
    auto full = names(stored(r, MetricsProfile::kFull));
    full.erase("mailtls_starttls_handshake_seconds");
    const auto lean = stored(r, MetricsProfile::kLean);
    EXPECT_EQ(names(lean), full) << r.domain;
    EXPECT_FALSE(has_zero_state(lean)) << r.domain;
  }
  EXPECT_GE(detailed, 4);  // dane-broken, dane-none, sts-enforce (F6), sts-broken, multi-mx
}

TEST(LeanProfile, WhatCountsAsWrong) {
  using Change = std::function<void(domain::DomainReport&)>;
  const std::vector<std::pair<std::string, Change>> wrong = {
      {"no STARTTLS", [](auto& r) { r.mx[0].addresses[1].starttls_ok = false; }},
      {"no connection", [](auto& r) { r.mx[0].addresses[0].connect_ok = false; }},
      {"no DANE match", [](auto& r) { r.mx[0].addresses[0].dane_match = false; }},
      {"RSA key does not match",
       [](auto& r) { r.mx[0].addresses[0].key_types.push_back({"rsa", false, "", ""}); }},
      {"two stale TLSA records",
       [](auto& r) {
         auto extra = r.mx[0].tlsa[1];
         extra.record.data[0] = 0x01;
         r.mx[0].tlsa.push_back(extra);
       }},
      {"F1", [](auto& r) { r.mx[0].renewed_without_tlsa_update = true; }},
      {"switched too fast", [](auto& r) { r.mx[0].rollover_phase = dane::RolloverPhase::kSwitchedTooFast; }},
      {"MX not covered", [](auto& r) { r.mx[0].mtasts_covered = false; }},
      {"bogus RRset", [](auto& r) { r.rrsets[3].security = dns::Security::kBogus; }},
      {"DANE degraded", [](auto& r) { r.dane_status = dane::DaneStatus::kDegraded; }},
      {"MTA-STS broken", [](auto& r) { r.mtasts.status = mtasts::MtaStsStatus::kBroken; }},
      {"policy fetch failed", [](auto& r) { r.mtasts.fetch_ok = false; }},
      {"F6", [](auto& r) { r.mtasts.changed_without_id_change = true; }},
      {"withdrawn while cached",
       [](auto& r) { r.mtasts.sender_cache_status = mtasts::SenderCacheStatus::kWithdrawnWithoutNone; }},
      {"cached policy does not cover the MX",
       [](auto& r) { r.mtasts.cached_mx_coverage = {{r.mx[0].host, false, std::nullopt}}; }},
  };
  for (const auto& [what, change] : wrong) {
    auto r = golden_healthy_single_mx_report();
    change(r);
    EXPECT_TRUE(needs_detail(r)) << what;
    EXPECT_TRUE(names(domain_metrics(r, MetricsProfile::kLean)).count("mailtls_smtp_connect_success"))
        << what;
  }
  const std::vector<std::pair<std::string, Change>> fine = {
      {"next key published (one record matches nowhere)", [](auto&) {}},
      {"rollover not ready", [](auto& r) { r.mx[0].rollover_ready = false; }},
      {"certificate not WebPKI-valid (DANE-EE)", [](auto& r) { r.mx[0].addresses[0].pkix_valid = false; }},
      {"MTA-STS testing", [](auto& r) { r.mtasts.status = mtasts::MtaStsStatus::kTesting; }},
      {"no TLS-RPT record (its own series says so)", [](auto& r) { r.tlsrpt.valid = false; }},
      {"slow handshake (the alert's threshold decides)",
       [](auto& r) { r.mx[0].addresses[0].phase_seconds["tls_handshake"] = 12; }},
  };
  for (const auto& [what, change] : fine) {
    auto r = golden_healthy_single_mx_report();
    change(r);
    EXPECT_FALSE(needs_detail(r)) << what;
  }
}

// Until when senders refuse an MX host that an earlier cached enforce policy does not cover: a
// detail series, only for that host, whatever the profile, and with the earlier policy's time,
// not the later expiry of the policy served now.
TEST(LeanProfile, CachedPolicyRefusalTimeOnlyForTheHostNotCovered) {
  const std::string family = "mailtls_mtasts_cached_policy_mx_refused_until_timestamp_seconds";
  auto r = golden_healthy_single_mx_report();
  EXPECT_FALSE(names(domain_metrics(r, MetricsProfile::kFull)).count(family));
  const auto refused_until = *r.mtasts.cached_enforce_expiry - std::chrono::hours(24);
  r.mtasts.sender_cache_status = mtasts::SenderCacheStatus::kMxNotCovered;
  r.mtasts.cached_mx_coverage = {{"mx-old." + r.domain, true, std::nullopt},
                                 {r.mx[0].host, false, refused_until}};
  for (const auto profile : {MetricsProfile::kFull, MetricsProfile::kLean}) {
    int found = 0;
    for (const auto& f : domain_metrics(r, profile)) {
      if (f.name != family) continue;
      for (const auto& m : f.metric) {
        ++found;
        EXPECT_EQ(m.label.back().value, r.mx[0].host);
        EXPECT_DOUBLE_EQ(m.gauge.value, to_unix_seconds(refused_until));
      }
    }
    EXPECT_EQ(found, 1);
  }
}

}  // namespace
}  // namespace mailtls::exporter
