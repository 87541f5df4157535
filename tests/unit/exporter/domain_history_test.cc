#include "exporter/runtime/domain_history.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>

#include "tests/unit/exporter/history_test_preamble.h"

namespace mailtls::exporter {
namespace {

using namespace history_tests;

TEST(DomainHistory, TlsaFirstSeenKeptWhileTheRrsetIsUnchanged) {
  auto state = StateStore::in_memory();
  auto r = sample_report("a.example");
  apply_history(r, state, kT0);
  ASSERT_TRUE(r.mx[0].tlsa_rrset_first_seen);
  EXPECT_EQ(*r.mx[0].tlsa_rrset_first_seen, kT0);
  auto again = sample_report("a.example");
  apply_history(again, state, kT0 + hours(5));
  EXPECT_EQ(*again.mx[0].tlsa_rrset_first_seen, kT0);
  // A new record: a new RRset, first seen now.
  auto changed = sample_report("a.example");
  domain::TlsaRecordReport next;
  next.record = {3, 1, 1, std::vector<std::uint8_t>(32, 0xcd)};
  changed.mx[0].tlsa.push_back(next);
  apply_history(changed, state, kT0 + hours(6));
  EXPECT_EQ(*changed.mx[0].tlsa_rrset_first_seen, kT0 + hours(6));
}

TEST(DomainHistory, FailedTlsaLookupKeepsHistory) {
  auto state = StateStore::in_memory();
  auto r = sample_report("a.example");
  apply_history(r, state, kT0);
  auto failed = sample_report("a.example");
  failed.mx[0].tlsa.clear();
  failed.mx[0].dane_state = dns::DaneApplicability::kLookupFailed;
  apply_history(failed, state, kT0 + hours(1));
  auto back = sample_report("a.example");
  apply_history(back, state, kT0 + hours(2));
  EXPECT_EQ(*back.mx[0].tlsa_rrset_first_seen, kT0);
}

TEST(DomainHistory, RenewedCertificateWithoutTlsaUpdateIsF1) {
  auto state = StateStore::in_memory();
  auto r = sample_report("a.example");
  apply_history(r, state, kT0);
  auto renewed = sample_report("a.example");
  for (auto& a : renewed.mx[0].addresses) {
    a.leaf->not_before = kT0 + hours(24);
    a.dane_match = false;
  }
  apply_history(renewed, state, kT0 + hours(25));
  EXPECT_TRUE(renewed.mx[0].renewed_without_tlsa_update);
  // The same mismatch with an old certificate is not a renewal (the TLSA was wrong from the start).
  auto old_cert = sample_report("a.example");
  for (auto& a : old_cert.mx[0].addresses) a.dane_match = false;
  apply_history(old_cert, state, kT0 + hours(26));
  EXPECT_FALSE(old_cert.mx[0].renewed_without_tlsa_update);
}

TEST(DomainHistory, PolicyChangedWithoutIdChangeIsF6UntilTheIdChanges) {
  auto state = StateStore::in_memory();
  auto r = sample_report("a.example");
  apply_history(r, state, kT0);
  EXPECT_FALSE(r.mtasts.changed_without_id_change);
  EXPECT_EQ(*r.mtasts.id_last_change, kT0);

  auto edited = sample_report("a.example");
  edited.mtasts.body_sha256 = std::string(64, 'd');
  apply_history(edited, state, kT0 + hours(1));
  EXPECT_TRUE(edited.mtasts.changed_without_id_change);
  EXPECT_EQ(*edited.mtasts.id_last_change, kT0);

  auto still = sample_report("a.example");
  still.mtasts.body_sha256 = std::string(64, 'd');
  apply_history(still, state, kT0 + hours(2));
  EXPECT_TRUE(still.mtasts.changed_without_id_change) << "stays raised until the id changes";

  auto bumped = sample_report("a.example");
  bumped.mtasts.body_sha256 = std::string(64, 'd');
  bumped.mtasts.txt_id = "20240102";
  apply_history(bumped, state, kT0 + hours(3));
  EXPECT_FALSE(bumped.mtasts.changed_without_id_change);
  EXPECT_EQ(*bumped.mtasts.id_last_change, kT0 + hours(3));
}

// /probe and `check` judge with the server's history but must not change it: for the same
// observations they give what the server gives (F1 here), and the store is left as it was.
TEST(DomainHistory, ReadOnlyViewJudgesLikeTheServerAndChangesNothing) {
  auto state = StateStore::in_memory();
  auto first = sample_report("a.example");
  apply_history(first, state, kT0);
  const auto before = state.section("tlsa_rrsets");

  auto renewed = [] {
    auto r = sample_report("a.example");
    for (auto& a : r.mx[0].addresses) {
      a.leaf->not_before = kT0 + hours(24);
      a.dane_match = false;
    }
    return r;
  };
  auto viewed = renewed();
  apply_history_read_only(viewed, state, kT0 + hours(25));
  EXPECT_TRUE(viewed.mx[0].renewed_without_tlsa_update);
  ASSERT_TRUE(viewed.mx[0].tlsa_rrset_first_seen);
  EXPECT_EQ(*viewed.mx[0].tlsa_rrset_first_seen, kT0);

  // A new RRset seen only through the view is not remembered.
  auto changed = sample_report("a.example");
  domain::TlsaRecordReport next;
  next.record = {3, 1, 1, std::vector<std::uint8_t>(32, 0xcd)};
  changed.mx[0].tlsa.push_back(next);
  apply_history_read_only(changed, state, kT0 + hours(26));
  EXPECT_EQ(*changed.mx[0].tlsa_rrset_first_seen, kT0 + hours(26));
  EXPECT_EQ(state.section("tlsa_rrsets"), before);

  auto judged = renewed();
  apply_history(judged, state, kT0 + hours(25));
  EXPECT_EQ(judged.mx[0].renewed_without_tlsa_update, viewed.mx[0].renewed_without_tlsa_update);
  EXPECT_EQ(judged.mx[0].tlsa_rrset_first_seen, viewed.mx[0].tlsa_rrset_first_seen);
}


// A state file in the format of earlier versions (tests/data/state/state-v1.json) loads as
// typed history, entry for entry, and storing it back changes nothing in the document.
TEST(DomainHistory, AStateFileOfTheCurrentFormatLoadsAndStoresUnchanged) {
  const auto dir = mailtls::testing::state_v1_dir("mailtls-state-v1");
  std::string warning;
  auto state = StateStore::read_only(dir.string(), &warning);
  ASSERT_TRUE(warning.empty()) << warning;

  const auto h = load_domain_history(state, "a.example", kT0);
  ASSERT_EQ(h.mx.size(), 2u);  // mx and old-mx; ab.example's entry is another domain's
  const auto& mx = h.mx.at("mx.a.example");
  ASSERT_TRUE(mx.tlsa_rrset);
  EXPECT_EQ(mx.tlsa_rrset->digest, "d1");
  EXPECT_EQ(mx.tlsa_rrset->first_seen, SystemTime(seconds(1799970000)));
  ASSERT_TRUE(mx.rollover);
  EXPECT_EQ(mx.rollover->ttl_seconds, 3600u);
  ASSERT_EQ(mx.rollover->records.size(), 1u);
  EXPECT_EQ(mx.rollover->records[0].record, "3 1 1 abab");
  ASSERT_EQ(mx.rollover->keys.size(), 1u);
  EXPECT_FALSE(h.mx.at("old-mx.a.example").rollover);
  ASSERT_TRUE(h.mtasts_policy);
  EXPECT_EQ(h.mtasts_policy->id, "20240101");
  EXPECT_TRUE(h.mtasts_policy->changed_without_id_change);
  ASSERT_TRUE(h.served_policies);
  ASSERT_EQ(h.served_policies->served.size(), 1u);
  EXPECT_EQ(h.served_policies->served[0].mode, mtasts::StsMode::kEnforce);
  EXPECT_EQ(h.served_policies->served[0].mx_patterns, std::vector<std::string>{"mx.a.example"});

  const auto before = state.entries_with_prefix(kTlsaSection, "");
  const auto served_before = state.get(kServedPoliciesSection, "a.example");
  store_domain_history(state, "a.example", h);
  EXPECT_EQ(state.entries_with_prefix(kTlsaSection, ""), before);
  EXPECT_EQ(state.get(kServedPoliciesSection, "a.example"), served_before);
  EXPECT_EQ(load_domain_history(state, "a.example", kT0), h);
  std::filesystem::remove_all(dir);
}

// What the judge forgot (an MX host gone from its history) leaves the state file too; other
// domains' entries stay.
TEST(DomainHistory, StoringReplacesTheDomainsHistoryOnly) {
  auto state = StateStore::in_memory();
  domain::DomainHistory h;
  h.mx["mx.a.example"].tlsa_rrset = domain::TlsaRrsetSighting{"d1", kT0};
  h.mx["old.a.example"].tlsa_rrset = domain::TlsaRrsetSighting{"d0", kT0};
  store_domain_history(state, "a.example", h);
  domain::DomainHistory other;
  other.mx["mx.a.example.net"].tlsa_rrset = domain::TlsaRrsetSighting{"d9", kT0};
  store_domain_history(state, "a.example.net", other);
  h.mx.erase("old.a.example");
  store_domain_history(state, "a.example", h);
  EXPECT_EQ(state.section(kTlsaSection).size(), 2u);
  EXPECT_EQ(load_domain_history(state, "a.example", kT0), h);
  EXPECT_EQ(load_domain_history(state, "a.example.net", kT0), other);
}

}  // namespace
}  // namespace mailtls::exporter
