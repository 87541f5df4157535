#include "exporter/runtime/domain_history.h"

#include <gtest/gtest.h>

#include "tests/unit/exporter/scripted_prober.h"

namespace mailtls::exporter {
namespace {

using namespace std::chrono;
using mailtls::testing::sample_report;

const SystemTime kT0 = SystemTime(seconds(1800000000));

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
  failed.mx[0].dane_state = "lookup_failed";
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

}  // namespace
}  // namespace mailtls::exporter
