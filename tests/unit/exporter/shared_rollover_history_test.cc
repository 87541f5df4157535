// The TLSA rollover history in the state file is kept once per MX host and shared by the domains
// that use it (exporter/runtime/domain_history.h): one entry for many domains, the same verdicts
// as a domain alone, no first-seen time lost when concurrent probes commit or when a state file
// of the per-(domain, MX host) form is migrated.

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>

#include "exporter/runtime/domain_history.h"
#include "probes/domain/history_verdicts.h"
#include "tests/unit/exporter/scripted_prober.h"

namespace mailtls::exporter {
namespace {

using namespace std::chrono;
using mailtls::testing::apply_history;
using mailtls::testing::sample_report;

const SystemTime kT0 = SystemTime(seconds(1800000000));
const std::string kSharedMx = "mx.hosting.example";

// `domain` on the shared MX host, its RRset with a next record published when `next`.
domain::DomainReport on_shared_mx(const std::string& domain, bool next) {
  auto r = sample_report(domain);
  r.mx[0].host = r.mx[0].tlsa_base_domain = kSharedMx;
  r.mx[0].tlsa_original_ttl = 60;
  if (next) {
    domain::TlsaRecordReport t;
    t.record = {3, 1, 1, std::vector<std::uint8_t>(32, 0xcd)};
    t.usable = true;
    r.mx[0].tlsa.push_back(t);
  }
  return r;
}

struct Seen {
  std::optional<dane::RolloverPhase> phase;
  std::optional<SystemTime> safe_to_switch;
  bool operator==(const Seen&) const = default;
};

Seen probe(StateStore& state, const std::string& domain, bool next, SystemTime now) {
  auto r = on_shared_mx(domain, next);
  apply_history(r, state, now);
  return {r.mx[0].rollover_phase, r.mx[0].rollover_safe_to_switch};
}

TEST(SharedRolloverHistory, DomainsOnOneMxHostShareOneEntryAndJudgeAsAlone) {
  auto shared = StateStore::in_memory();
  auto alone = StateStore::in_memory();
  const std::vector<std::pair<bool, minutes>> steps = {{false, minutes(0)}, {true, minutes(10)},
                                                       {true, minutes(11)}, {true, minutes(13)}};
  for (const auto& [next, at] : steps) {
    const Seen a = probe(shared, "a.example", next, kT0 + at);
    const Seen b = probe(shared, "b.example", next, kT0 + at);
    const Seen own = probe(alone, "a.example", next, kT0 + at);
    EXPECT_EQ(a, own);
    EXPECT_EQ(b, own);
  }
  EXPECT_EQ(probe(alone, "a.example", true, kT0 + minutes(14)).phase, dane::RolloverPhase::kNextSafe);
  EXPECT_EQ(shared.section(kMxRolloverSection).size(), 1u);
  EXPECT_TRUE(shared.section(kMxRolloverSection).contains(kSharedMx));
  EXPECT_TRUE(shared.section(kRolloverSection).empty());
  EXPECT_EQ(shared.section(kTlsaSection).size(), 2u);  // F1 stays per (domain, MX host)
}

// A domain added later on an MX host others use gets the MX host's history from its second
// probe on: a next record published before it was added is not "of unknown age" for it.
TEST(SharedRolloverHistory, ADomainAddedLaterGetsTheMxHostsHistory) {
  auto state = StateStore::in_memory();
  probe(state, "a.example", false, kT0);
  probe(state, "a.example", true, kT0 + minutes(10));
  probe(state, "b.example", true, kT0 + minutes(11));  // b's first probe: no history of its own yet
  const auto b = probe(state, "b.example", true, kT0 + minutes(13));
  EXPECT_EQ(b.phase, dane::RolloverPhase::kNextSafe);
  EXPECT_EQ(b.safe_to_switch, kT0 + minutes(12));
}

// Two domains' probes read the same history and commit one after the other: the second commit
// merges, it does not overwrite the first one's first-seen times with its own later ones.
TEST(SharedRolloverHistory, ConcurrentCommitsKeepTheEarliestFirstSeen) {
  auto state = StateStore::in_memory();
  probe(state, "a.example", false, kT0);
  probe(state, "b.example", false, kT0 + minutes(1));
  auto ra = on_shared_mx("a.example", true);
  auto rb = on_shared_mx("b.example", true);
  const auto ha = load_domain_history(state, "a.example", kT0 + minutes(10));
  const auto hb = load_domain_history(state, "b.example", kT0 + minutes(10));
  const auto remember_a = domain::judge_history(ra, ha, kT0 + minutes(10));
  const auto remember_b = domain::judge_history(rb, hb, kT0 + minutes(20));
  store_domain_history(state, "b.example", remember_b);
  store_domain_history(state, "a.example", remember_a);
  const auto h = load_domain_history(state, "b.example", kT0 + minutes(21));
  const auto& records = h.mx.at(kSharedMx).rollover->records;
  ASSERT_EQ(records.size(), 2u);
  std::string next_record = "3 1 1 ";
  for (int i = 0; i < 32; ++i) next_record += "cd";
  for (const auto& rec : records) {
    EXPECT_EQ(rec.first_seen, rec.record == next_record ? kT0 + minutes(10) : kT0) << rec.record;
  }
  EXPECT_EQ(h.mx.at(kSharedMx).rollover->tracking_since, kT0);
}

// A domain that stops checking DANE forgets the MX host; the other domains on it do not.
TEST(SharedRolloverHistory, TheEntryGoesWithTheLastDomainThatHasTheMxHost) {
  auto state = StateStore::in_memory();
  probe(state, "a.example", false, kT0);
  probe(state, "b.example", false, kT0);
  auto no_tlsa = [](const std::string& domain) {
    auto r = on_shared_mx(domain, false);
    r.mx[0].tlsa.clear();
    r.mx[0].dane_state = dns::DaneApplicability::kNotApplicableNoTlsa;
    return r;
  };
  auto a = no_tlsa("a.example");
  apply_history(a, state, kT0 + minutes(1));
  EXPECT_TRUE(state.section(kMxRolloverSection).contains(kSharedMx));
  EXPECT_EQ(probe(state, "b.example", false, kT0 + minutes(2)).phase, dane::RolloverPhase::kSteady);
  auto b = no_tlsa("b.example");
  apply_history(b, state, kT0 + minutes(3));
  EXPECT_TRUE(state.section(kMxRolloverSection).empty());
}

// The per-(domain, MX host) entries of a state file written before sharing
// (tests/data/state/state-v1.json) move to the MX host's entry with their first-seen times; two
// domains' copies of one MX host's history merge to the earliest times.
TEST(SharedRolloverHistory, OlderStateFilesMigrateWithoutLosingFirstSeen) {
  const auto dir = mailtls::testing::state_v1_dir("mailtls-shared");
  std::string warning;
  auto state = StateStore::open(dir.string(), &warning);
  ASSERT_TRUE(warning.empty()) << warning;
  const auto old_entry = state.get(kRolloverSection, "a.example mx.a.example");
  ASSERT_TRUE(old_entry.is_object());
  // Another domain on the same MX host, from the same older version, first saw the record later.
  auto later = old_entry;
  later["tracking_since"] = 1799990000.0;
  later["records"][0]["first_seen"] = 1799990000.0;
  later["keys"][0]["first_seen"] = 1799990000.0;
  state.put(kRolloverSection, "c.example mx.a.example", later);
  state.put(kTlsaSection, "c.example mx.a.example", {{"digest", "d1"}, {"first_seen", 1799990000.0}});

  const auto before = load_domain_history(state, "a.example", kT0);
  store_domain_history(state, "a.example", before);
  EXPECT_EQ(state.get(kMxRolloverSection, "mx.a.example"), old_entry);
  EXPECT_EQ(load_domain_history(state, "a.example", kT0), before);
  // c.example reads the shared entry merged with its own older copy: the earlier times.
  const auto c = load_domain_history(state, "c.example", kT0);
  EXPECT_EQ(c.mx.at("mx.a.example").rollover, before.mx.at("mx.a.example").rollover);
  store_domain_history(state, "c.example", c);
  EXPECT_TRUE(state.section(kRolloverSection).empty());
  EXPECT_EQ(state.get(kMxRolloverSection, "mx.a.example"), old_entry);
  std::string error;
  ASSERT_TRUE(state.save(&error)) << error;
  auto reopened = StateStore::open(dir.string(), &warning);
  EXPECT_EQ(load_domain_history(reopened, "a.example", kT0), before);
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace mailtls::exporter
