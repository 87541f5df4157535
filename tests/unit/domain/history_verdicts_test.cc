// The verdicts that need history (F1, F6, T12, P7), judged from a typed history given by the test:
// no state file, no network, the time chosen by the test.
#include "probes/domain/history_verdicts.h"

#include <gtest/gtest.h>

namespace mailtls::domain {
namespace {

using namespace std::chrono;

const SystemTime kT0 = SystemTime(seconds(1800000000));

TlsaRecordReport record(std::uint8_t fill, bool matches) {
  TlsaRecordReport t;
  t.record = {3, 1, 1, std::vector<std::uint8_t>(32, fill)};
  t.usable = true;
  t.matches["192.0.2.1"] = matches;
  return t;
}

// One MX host with one address whose leaf matches the one usable record, and a valid MTA-STS
// policy in enforce mode.
DomainReport observed(SystemTime leaf_not_before = kT0 - hours(24), bool dane_match = true) {
  DomainReport r;
  r.domain = "a.example";
  r.probe_success = true;
  MxReport mx;
  mx.host = "mx.a.example";
  mx.dane_state = dns::DaneApplicability::kDaneAppliesUsable;
  mx.tlsa_original_ttl = 60;
  mx.tlsa.push_back(record(0xab, dane_match));
  AddressReport a;
  a.address = "192.0.2.1";
  a.dane_applies = true;
  a.dane_match = dane_match;
  a.leaf = CertificateSummary{"CN=mx", "CN=ca", std::string(64, 'a'), {"mx.a.example"},
                              leaf_not_before, kT0 + hours(24 * 90)};
  mx.addresses.push_back(a);
  r.mx.push_back(mx);
  r.mtasts.checked = true;
  r.mtasts.txt_valid = true;
  r.mtasts.txt_id = "1";
  r.mtasts.policy_valid = true;
  r.mtasts.mode = mtasts::StsMode::kEnforce;
  r.mtasts.max_age = 604800;
  r.mtasts.mx_patterns = {"mx.a.example"};
  r.mtasts.body_sha256 = std::string(64, 'b');
  r.mtasts.status = mtasts::MtaStsStatus::kEnforced;
  return r;
}

TEST(HistoryVerdicts, F1FromTheFirstSeenTimeInTheHistory) {
  auto first = observed();
  const auto h1 = judge_history(first, {}, kT0);
  ASSERT_TRUE(h1.mx.at("mx.a.example").tlsa_rrset);
  EXPECT_EQ(h1.mx.at("mx.a.example").tlsa_rrset->first_seen, kT0);
  EXPECT_FALSE(first.mx[0].renewed_without_tlsa_update);

  // A leaf issued after the RRset appeared, and DANE fails: F1, from the history given.
  auto renewed = observed(kT0 + hours(2), false);
  const auto h2 = judge_history(renewed, h1, kT0 + hours(3));
  EXPECT_TRUE(renewed.mx[0].renewed_without_tlsa_update);
  EXPECT_EQ(*renewed.mx[0].tlsa_rrset_first_seen, kT0);
  EXPECT_EQ(h2.mx.at("mx.a.example").tlsa_rrset, h1.mx.at("mx.a.example").tlsa_rrset);

  // Without history the RRset is first seen now, after the leaf: no F1.
  auto fresh = observed(kT0 + hours(2), false);
  judge_history(fresh, {}, kT0 + hours(3));
  EXPECT_FALSE(fresh.mx[0].renewed_without_tlsa_update);
}

TEST(HistoryVerdicts, F6FromThePolicyHistory) {
  auto first = observed();
  const auto h1 = judge_history(first, {}, kT0);
  EXPECT_FALSE(first.mtasts.changed_without_id_change);
  auto edited = observed();
  edited.mtasts.body_sha256 = std::string(64, 'c');
  const auto h2 = judge_history(edited, h1, kT0 + hours(1));
  EXPECT_TRUE(edited.mtasts.changed_without_id_change);
  ASSERT_TRUE(h2.mtasts_policy);
  EXPECT_TRUE(h2.mtasts_policy->changed_without_id_change);
  EXPECT_EQ(*edited.mtasts.id_last_change, kT0);
}

TEST(HistoryVerdicts, RolloverPhaseFromTheSightings) {
  auto steady = observed();
  const auto h1 = judge_history(steady, {}, kT0);
  EXPECT_EQ(steady.mx[0].rollover_phase, dane::RolloverPhase::kSteady);
  auto next = observed();
  next.mx[0].tlsa.push_back(record(0xcd, false));
  const auto h2 = judge_history(next, h1, kT0 + minutes(1));
  EXPECT_EQ(next.mx[0].rollover_phase, dane::RolloverPhase::kNextPublished);
  auto later = observed();
  later.mx[0].tlsa.push_back(record(0xcd, false));
  judge_history(later, h2, kT0 + minutes(5));  // 2 x TTL (60 s) after the next record appeared
  EXPECT_EQ(later.mx[0].rollover_phase, dane::RolloverPhase::kNextSafe);
}

// A dual-certificate server (T14): each key type's key is followed apart. The ECDSA key stays
// put while the RSA key is switched to one whose record was published a moment ago: too fast,
// although the ECDSA chain alone would read steady.
TEST(HistoryVerdicts, RolloverFollowsEachKeyType) {
  const auto dual = [](bool rsa_switched, bool next_published) {
    auto r = observed();
    auto& mx = r.mx[0];
    mx.tlsa.push_back(record(0xcd, false));  // the RSA key's record
    if (next_published) mx.tlsa.push_back(record(0xef, false));  // the next RSA key's record
    auto& a = mx.addresses[0];
    a.key_types.push_back({"ecdsa", true, "", std::string(64, 'a'), {true, false, false}});
    a.key_types.push_back({"rsa", true, "", rsa_switched ? std::string(64, 'f') : std::string(64, 'c'),
                           {false, !rsa_switched, rsa_switched}});
    a.key_types[0].record_matches.resize(mx.tlsa.size());
    a.key_types[1].record_matches.resize(mx.tlsa.size());
    return r;
  };
  auto both = dual(false, false);
  const auto h1 = judge_history(both, {}, kT0 - hours(1));
  EXPECT_EQ(both.mx[0].rollover_phase, dane::RolloverPhase::kSteady);
  auto published = dual(false, true);
  const auto h2 = judge_history(published, h1, kT0);
  EXPECT_EQ(published.mx[0].rollover_phase, dane::RolloverPhase::kNextPublished);
  auto switched = dual(true, true);
  judge_history(switched, h2, kT0 + seconds(30));  // 30 s after the next record, TTL 60 s
  EXPECT_EQ(switched.mx[0].rollover_phase, dane::RolloverPhase::kSwitchedTooFast);
  ASSERT_TRUE(switched.mx[0].rollover_safe_to_switch);
  EXPECT_EQ(*switched.mx[0].rollover_safe_to_switch, kT0 + seconds(120));
}

TEST(HistoryVerdicts, SenderCacheFromTheServedPolicies) {
  auto enforce = observed();
  const auto h1 = judge_history(enforce, {}, kT0);
  EXPECT_EQ(enforce.mtasts.sender_cache_status, mtasts::SenderCacheStatus::kEnforceCached);
  auto testing = observed();
  testing.mtasts.mode = mtasts::StsMode::kTesting;
  testing.mtasts.body_sha256 = std::string(64, 'c');
  judge_history(testing, h1, kT0 + hours(1));
  EXPECT_EQ(testing.mtasts.sender_cache_status, mtasts::SenderCacheStatus::kDowngraded);
}

// Only a proven absence of TLSA ends an MX host's history; a failed lookup keeps it, and a
// probe without a verdict changes nothing.
TEST(HistoryVerdicts, WhatIsForgottenAndWhatIsKept) {
  auto first = observed();
  const auto h1 = judge_history(first, {}, kT0);
  auto failed = observed();
  failed.mx[0].tlsa.clear();
  failed.mx[0].dane_state = dns::DaneApplicability::kLookupFailed;
  EXPECT_EQ(judge_history(failed, h1, kT0 + hours(1)).mx, h1.mx);
  auto gone = observed();
  gone.mx[0].tlsa.clear();
  gone.mx[0].dane_state = dns::DaneApplicability::kNotApplicableNoTlsa;
  EXPECT_FALSE(judge_history(gone, h1, kT0 + hours(1)).mx.count("mx.a.example"));
  auto timed_out = observed(kT0 + hours(2), false);
  timed_out.probe_success = false;
  EXPECT_EQ(judge_history(timed_out, h1, kT0 + hours(3)), h1);
  EXPECT_FALSE(timed_out.mx[0].renewed_without_tlsa_update);
}

}  // namespace
}  // namespace mailtls::domain
