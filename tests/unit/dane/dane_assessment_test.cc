// docs/verdicts.md T4, T6, T11, T14, M4, §2 and the Addendum (rollover readiness); F1-F3
// and the dane_status state set.
#include "probes/dane/dane_assessment.h"

#include <gtest/gtest.h>

#include "probes/dane/renewal_mismatch.h"
#include "probes/dane/tlsa_association.h"
#include "tests/unit/dane/w1_fixtures.h"

namespace mailtls::dane {
namespace {

using mailtls::testing::TestCert;
using testing::kW1Ca211;
using testing::kW1Leaf311;
using testing::kZeros32;
using testing::tlsa;
using dns::DaneApplicability;

const std::string kGood311 = std::string("3 1 1 ") + kW1Leaf311;
const std::string kCa211 = std::string("2 1 1 ") + kW1Ca211;
const std::string kZeros311 = std::string("3 1 1 ") + kZeros32;

class DaneAssessment : public ::testing::Test {
 protected:
  TestCert ca_ = testing::make_w1_ca();
  TestCert leaf_ = testing::make_w1_leaf(ca_, {.common_name = "mx1.example.com", .dns_names = {"mx1.example.com"}, .serial = 2});
  // A different key under the same CA: what a server presents after an unannounced rollover.
  TestCert other_leaf_ = mailtls::testing::make_test_leaf(
      {.common_name = "mx1.example.com", .dns_names = {"mx1.example.com"}, .serial = 9}, ca_);
  SystemTime now_ = std::chrono::system_clock::now();

  AddressProbe good(const std::string& ip) const {
    return {ip, true, true, true, tls::X509Chain::parse({leaf_.der(), ca_.der()})};
  }
  AddressProbe rolled(const std::string& ip) const {
    return {ip, true, true, true, tls::X509Chain::parse({other_leaf_.der(), ca_.der()})};
  }
  static AddressProbe no_starttls(const std::string& ip) { return {ip, true, false, false, {}}; }

  static std::vector<dns::TlsaRecord> rrset(const std::vector<std::string>& texts) {
    std::vector<dns::TlsaRecord> out;
    for (const auto& t : texts) out.push_back(tlsa(t));
    return out;
  }
  static MxDaneInput mx(const std::string& host, DaneApplicability a, const std::vector<std::string>& records,
                        std::vector<AddressProbe> addresses) {
    return {host, a, host, rrset(records), std::move(addresses)};
  }
  DomainDaneResult assess(std::vector<MxDaneInput> mxs, bool mx_secure = true) const {
    DomainDaneInput in;
    in.domain = "example.com";
    in.mx_secure = mx_secure;
    in.mx = std::move(mxs);
    return assess_domain_dane(in, now_);
  }
  std::string next_key_311() const {
    TestCert next = mailtls::testing::make_test_leaf({.common_name = "mx1.example.com", .serial = 11}, ca_);
    return tlsa_record_for(next.der(), 3, 1, 1)->to_string();
  }
};

TEST_F(DaneAssessment, ValidWhenEveryAddressAuthenticates) {
  auto r = assess({mx("mx1.example.com", DaneApplicability::kDaneAppliesUsable, {kGood311},
                      {good("192.0.2.1"), good("2001:db8::1")})});
  EXPECT_EQ(r.status, DaneStatus::kValid);
  EXPECT_EQ(to_string(r.status), "valid");
  EXPECT_FALSE(r.partial_coverage);
  const auto& m = r.mx[0];
  EXPECT_EQ(m.usable_records, 1);
  ASSERT_EQ(m.addresses.size(), 2u);
  for (const auto& a : m.addresses) {
    EXPECT_TRUE(a.dane_applies);
    EXPECT_TRUE(a.authenticated);
    EXPECT_TRUE(a.delivers);
    EXPECT_EQ(a.result_type, DaneResultType::kOk);
    ASSERT_TRUE(a.matched_record);
    EXPECT_EQ(*a.matched_record, 0u);
  }
  EXPECT_EQ(m.record_matches, (std::vector<std::vector<bool>>{{true, true}}));
  EXPECT_TRUE(m.stale_groups.empty());
  EXPECT_TRUE(m.all_deliver);
}

TEST_F(DaneAssessment, DegradedWhenOneAddressPresentsAnotherKey) {
  // T14: the IPv4 chain matches, the IPv6 chain does not -> FAIL for that address.
  auto r = assess({mx("mx1.example.com", DaneApplicability::kDaneAppliesUsable, {kGood311},
                      {good("192.0.2.1"), rolled("2001:db8::1")})});
  EXPECT_EQ(r.status, DaneStatus::kDegraded);
  const auto& m = r.mx[0];
  EXPECT_TRUE(m.addresses[0].delivers);
  EXPECT_FALSE(m.addresses[1].delivers);
  EXPECT_EQ(m.addresses[1].result_type, DaneResultType::kTlsaInvalid);
  EXPECT_EQ(m.record_matches, (std::vector<std::vector<bool>>{{true, false}}));
  EXPECT_FALSE(m.record_stale[0]);  // it matches somewhere
  EXPECT_EQ(r.addresses_delivering, 1);
  EXPECT_EQ(r.addresses_failing, 1);
}

TEST_F(DaneAssessment, BrokenWhenNoAddressPassesF1) {
  auto r = assess({mx("mx1.example.com", DaneApplicability::kDaneAppliesUsable, {kGood311},
                      {rolled("192.0.2.1"), rolled("2001:db8::1")})});
  EXPECT_EQ(r.status, DaneStatus::kBroken);
  EXPECT_TRUE(r.mx[0].record_stale[0]);
  ASSERT_EQ(r.mx[0].stale_groups.size(), 1u);
  EXPECT_EQ(r.mx[0].stale_groups[0], (TlsaGroup{3, 1, 1}));
  EXPECT_FALSE(r.mx[0].rollover_ready);
  EXPECT_EQ(r.mx[0].rollover, RolloverReadiness::kNoCurrentMatch);
}

TEST_F(DaneAssessment, StarttlsMandatoryEvenWithOnlyUnusableRecords) {
  // W4 "1 1 1 only": unusable for SMTP, but the secure RRset makes STARTTLS mandatory (T6).
  const std::vector<std::string> pkix = {std::string("1 1 1 ") + kW1Leaf311};
  auto refused = assess({mx("mx1.example.com", DaneApplicability::kDaneAppliesNoneUsable, pkix, {no_starttls("192.0.2.1")})});
  EXPECT_EQ(refused.status, DaneStatus::kBroken);
  EXPECT_EQ(refused.mx[0].addresses[0].result_type, DaneResultType::kStarttlsNotSupported);
  EXPECT_EQ(to_string(refused.mx[0].addresses[0].result_type), "starttls-not-supported");
  EXPECT_EQ(refused.mx[0].usable_records, 0);
  EXPECT_EQ(refused.mx[0].usability[0].unusable_reason, TlsaUnusableReason::kPkixUsage);

  auto tls = assess({mx("mx1.example.com", DaneApplicability::kDaneAppliesNoneUsable, pkix, {rolled("192.0.2.1")})});
  EXPECT_EQ(tls.status, DaneStatus::kValid);
  const auto& a = tls.mx[0].addresses[0];
  EXPECT_TRUE(a.delivers);
  EXPECT_FALSE(a.authenticated);  // unauthenticated TLS is what is expected (T4 row 2)
  EXPECT_EQ(a.result_type, DaneResultType::kOk);
  EXPECT_EQ(tls.mx[0].rollover, RolloverReadiness::kNotApplicable);
  EXPECT_TRUE(tls.mx[0].stale_groups.empty());  // unusable records are not "stale"
}

TEST_F(DaneAssessment, AbcdOnlyIsNoneUsable) {
  auto r = assess({mx("mx1.example.com", DaneApplicability::kDaneAppliesNoneUsable, {"3 1 1 abcd"}, {good("192.0.2.1")})});
  EXPECT_EQ(r.mx[0].usable_records, 0);
  EXPECT_EQ(r.mx[0].usability[0].unusable_reason, TlsaUnusableReason::kBadDigestLength);
  EXPECT_EQ(r.status, DaneStatus::kValid);
  EXPECT_FALSE(r.mx[0].addresses[0].authenticated);
}

TEST_F(DaneAssessment, StarttlsMissingWithUsableRecordsFails) {
  auto r = assess({mx("mx1.example.com", DaneApplicability::kDaneAppliesUsable, {kGood311},
                      {good("192.0.2.1"), no_starttls("2001:db8::1")})});
  EXPECT_EQ(r.status, DaneStatus::kDegraded);
  EXPECT_EQ(r.mx[0].addresses[1].result_type, DaneResultType::kStarttlsNotSupported);
}

TEST_F(DaneAssessment, HandshakeFailureAndUnreachableAddressFail) {
  AddressProbe handshake_failed{"192.0.2.2", true, true, false, {}};
  AddressProbe unreachable{"192.0.2.3", false, false, false, {}};
  auto r = assess({mx("mx1.example.com", DaneApplicability::kDaneAppliesUsable, {kGood311},
                      {good("192.0.2.1"), handshake_failed, unreachable})});
  EXPECT_EQ(r.status, DaneStatus::kDegraded);
  EXPECT_EQ(r.mx[0].addresses[1].result_type, DaneResultType::kValidationFailure);
  EXPECT_EQ(r.mx[0].addresses[2].result_type, DaneResultType::kProbeError);
  EXPECT_EQ(to_string(r.mx[0].addresses[2].result_type), "probe-error");
}

TEST_F(DaneAssessment, DaneMxWithoutAddressesIsBroken) {
  auto r = assess({mx("mx1.example.com", DaneApplicability::kDaneAppliesUsable, {kGood311}, {})});
  EXPECT_EQ(r.status, DaneStatus::kBroken);
}

TEST_F(DaneAssessment, T11Vectors) {
  // {3 1 1 current, 2 1 1 current issuer} -> PASS, nothing stale.
  auto both = assess({mx("mx1.example.com", DaneApplicability::kDaneAppliesUsable, {kGood311, kCa211}, {good("192.0.2.1")})});
  EXPECT_EQ(both.status, DaneStatus::kValid);
  EXPECT_TRUE(both.mx[0].stale_groups.empty());
  EXPECT_EQ(both.mx[0].record_stale, (std::vector<bool>{false, false}));
  // {3 1 1 old leaf, 2 1 1 current issuer} -> authenticated, the 3 1 1 group is stale (W4 row 7).
  auto stale = assess({mx("mx1.example.com", DaneApplicability::kDaneAppliesUsable, {kZeros311, kCa211}, {good("192.0.2.1")})});
  EXPECT_EQ(stale.status, DaneStatus::kValid);
  EXPECT_TRUE(stale.mx[0].addresses[0].authenticated);
  EXPECT_EQ(stale.mx[0].record_stale, (std::vector<bool>{true, false}));
  EXPECT_EQ(stale.mx[0].stale_groups, (std::vector<TlsaGroup>{{3, 1, 1}}));
  // {3 1 1 old leaf, 2 1 1 old issuer} -> FAIL, both groups stale.
  auto old = assess({mx("mx1.example.com", DaneApplicability::kDaneAppliesUsable,
                        {kZeros311, std::string("2 1 1 ") + kZeros32}, {good("192.0.2.1")})});
  EXPECT_EQ(old.status, DaneStatus::kBroken);
  EXPECT_EQ(old.mx[0].stale_groups.size(), 2u);
  // A pre-published next key is a stale *record* but not a stale group: its group matches.
  auto next = assess({mx("mx1.example.com", DaneApplicability::kDaneAppliesUsable, {kGood311, next_key_311()}, {good("192.0.2.1")})});
  EXPECT_EQ(next.mx[0].record_stale, (std::vector<bool>{false, true}));
  EXPECT_TRUE(next.mx[0].stale_groups.empty());
}

TEST_F(DaneAssessment, NoStalenessWithoutAnyPresentedChain) {
  auto r = assess({mx("mx1.example.com", DaneApplicability::kDaneAppliesUsable, {kGood311}, {no_starttls("192.0.2.1")})});
  EXPECT_FALSE(r.mx[0].any_chain);
  EXPECT_FALSE(r.mx[0].record_stale[0]);
  EXPECT_TRUE(r.mx[0].stale_groups.empty());
  EXPECT_EQ(r.mx[0].rollover, RolloverReadiness::kNotApplicable);
}

TEST_F(DaneAssessment, RolloverReadiness) {
  auto readiness = [&](const std::vector<std::string>& records) {
    auto r = assess({mx("mx1.example.com", DaneApplicability::kDaneAppliesUsable, records, {good("192.0.2.1"), good("2001:db8::1")})});
    EXPECT_EQ(r.mx[0].rollover_ready, r.mx[0].rollover == RolloverReadiness::kTrustAnchorMatches ||
                                          r.mx[0].rollover == RolloverReadiness::kNextKeyPublished);
    return r.mx[0].rollover;
  };
  EXPECT_EQ(readiness({kGood311}), RolloverReadiness::kOnlyCurrentKey);
  EXPECT_EQ(readiness({kGood311, next_key_311()}), RolloverReadiness::kNextKeyPublished);
  EXPECT_EQ(readiness({kGood311, kGood311}), RolloverReadiness::kOnlyCurrentKey);  // duplicate
  EXPECT_EQ(readiness({kGood311, kCa211}), RolloverReadiness::kTrustAnchorMatches);
  EXPECT_EQ(readiness({kZeros311, kCa211}), RolloverReadiness::kTrustAnchorMatches);
  EXPECT_EQ(readiness({kGood311, "3 1 1 abcd"}), RolloverReadiness::kOnlyCurrentKey);  // unusable
  // The same key under another selector is not a next key.
  EXPECT_EQ(readiness({kGood311, tlsa_record_for(leaf_.der(), 3, 0, 1)->to_string()}), RolloverReadiness::kOnlyCurrentKey);
  // A next key shadowed by agility (only SHA2-512 counts for 3 1) would not be used.
  EXPECT_EQ(readiness({tlsa_record_for(leaf_.der(), 3, 1, 2)->to_string(), next_key_311()}),
            RolloverReadiness::kOnlyCurrentKey);
  EXPECT_EQ(readiness({kZeros311}), RolloverReadiness::kNoCurrentMatch);
  EXPECT_EQ(to_string(RolloverReadiness::kNextKeyPublished), "next-key-published");
  // A 2 1 1 that fails its name check does not make a key change safe.
  auto named_elsewhere = assess({mx("other.example.net", DaneApplicability::kDaneAppliesUsable, {kGood311, kCa211},
                                    {good("192.0.2.1")})},
                                false);
  EXPECT_EQ(named_elsewhere.status, DaneStatus::kValid);  // the 3 1 1 carries it
  EXPECT_EQ(named_elsewhere.mx[0].rollover, RolloverReadiness::kOnlyCurrentKey);
}

TEST_F(DaneAssessment, TrustAnchorMustAuthenticateEveryAddressForReadiness) {
  TestCert foreign_ca = mailtls::testing::make_test_ca("Other CA");
  TestCert foreign = mailtls::testing::make_test_leaf({.common_name = "mx1.example.com", .dns_names = {"mx1.example.com"}}, foreign_ca);
  AddressProbe elsewhere{"2001:db8::1", true, true, true,
                         tls::X509Chain::parse({foreign.der(), foreign_ca.der()})};
  auto foreign311 = tlsa_record_for(foreign.der(), 3, 1, 1)->to_string();
  auto r = assess({mx("mx1.example.com", DaneApplicability::kDaneAppliesUsable, {kCa211, foreign311},
                      {good("192.0.2.1"), elsewhere})});
  EXPECT_EQ(r.status, DaneStatus::kValid);
  EXPECT_FALSE(r.mx[0].rollover_ready);
  EXPECT_EQ(r.mx[0].rollover, RolloverReadiness::kNoCurrentMatch);
}

TEST_F(DaneAssessment, NextHopNameIsUsedOnlyWithASecureMxRrset) {
  TestCert domain_leaf = testing::make_w1_leaf(ca_, {.common_name = "example.com", .dns_names = {"example.com"}, .serial = 12});
  AddressProbe a{"192.0.2.1", true, true, true,
                 tls::X509Chain::parse({domain_leaf.der(), ca_.der()})};
  auto secure = assess({mx("mx1.example.com", DaneApplicability::kDaneAppliesUsable, {kCa211}, {a})}, true);
  EXPECT_EQ(secure.status, DaneStatus::kValid);
  EXPECT_EQ(secure.mx[0].reference_names, (std::vector<std::string>{"mx1.example.com", "example.com"}));
  auto insecure = assess({mx("mx1.example.com", DaneApplicability::kDaneAppliesUsable, {kCa211}, {a})}, false);
  EXPECT_EQ(insecure.status, DaneStatus::kBroken);
  EXPECT_EQ(insecure.mx[0].addresses[0].result_type, DaneResultType::kCertificateHostMismatch);
}

TEST_F(DaneAssessment, NotDeployedWhenNoMxHasASecureTlsaRrset) {
  auto r = assess({mx("mx1.example.com", DaneApplicability::kNotApplicableNoTlsa, {}, {good("192.0.2.1")}),
                   mx("mx2.example.com", DaneApplicability::kNotApplicableInsecure, {}, {no_starttls("192.0.2.2")})});
  EXPECT_EQ(r.status, DaneStatus::kNotDeployed);
  EXPECT_EQ(to_string(r.status), "not_deployed");
  EXPECT_FALSE(r.partial_coverage);
  EXPECT_EQ(r.mx[0].addresses[0].result_type, DaneResultType::kNotApplicable);
  EXPECT_FALSE(r.mx[0].addresses[0].dane_applies);
  EXPECT_EQ(r.mx[1].addresses[0].result_type, DaneResultType::kNotApplicable);
  EXPECT_EQ(r.mx_without_dane, 2);
  EXPECT_EQ(assess({}).status, DaneStatus::kNotDeployed);
}

TEST_F(DaneAssessment, PartialCoverageTakesTheStatusFromTheDaneMxHosts) {
  auto r = assess({mx("mx1.example.com", DaneApplicability::kDaneAppliesUsable, {kGood311}, {good("192.0.2.1")}),
                   mx("mx2.example.com", DaneApplicability::kNotApplicableInsecure, {}, {no_starttls("192.0.2.2")})});
  EXPECT_EQ(r.status, DaneStatus::kValid);
  EXPECT_TRUE(r.partial_coverage);
  EXPECT_EQ(r.mx_with_dane, 1);
  EXPECT_EQ(r.mx_without_dane, 1);
  auto broken = assess({mx("mx1.example.com", DaneApplicability::kDaneAppliesUsable, {kGood311}, {rolled("192.0.2.1")}),
                        mx("mx2.example.com", DaneApplicability::kNotApplicableNoTlsa, {}, {good("192.0.2.2")})});
  EXPECT_EQ(broken.status, DaneStatus::kBroken);  // the non-DANE MX does not rescue it
  EXPECT_TRUE(broken.partial_coverage);
}

TEST_F(DaneAssessment, BogusIsNeverNotDeployed) {
  // The MX lookup itself failed: no MX host at all, still bogus.
  DomainDaneInput failed;
  failed.domain = "example.com";
  failed.mx_lookup_failed = true;
  EXPECT_EQ(assess_domain_dane(failed, now_).status, DaneStatus::kBogus);
  // One MX host's TLSA lookup is bogus, the other has no DANE.
  auto r = assess({mx("mx1.example.com", DaneApplicability::kLookupFailed, {}, {good("192.0.2.1")}),
                   mx("mx2.example.com", DaneApplicability::kNotApplicableNoTlsa, {}, {good("192.0.2.2")})});
  EXPECT_EQ(r.status, DaneStatus::kBogus);
  EXPECT_EQ(to_string(r.status), "bogus");
  EXPECT_EQ(r.mx[0].addresses[0].result_type, DaneResultType::kDnssecInvalid);
  EXPECT_FALSE(r.mx[0].addresses[0].delivers);
  EXPECT_FALSE(r.partial_coverage);
  // Bogus wins over a valid DANE MX host too.
  auto mixed = assess({mx("mx1.example.com", DaneApplicability::kDaneAppliesUsable, {kGood311}, {good("192.0.2.1")}),
                       mx("mx2.example.com", DaneApplicability::kLookupFailed, {}, {})});
  EXPECT_EQ(mixed.status, DaneStatus::kBogus);
}

TEST_F(DaneAssessment, StatusLabels) {
  EXPECT_EQ(to_string(DaneStatus::kDegraded), "degraded");
  EXPECT_EQ(to_string(DaneStatus::kBroken), "broken");
  EXPECT_EQ(to_string(DaneResultType::kTlsaInvalid), "tlsa-invalid");
  EXPECT_EQ(to_string(DaneResultType::kCertificateExpired), "certificate-expired");
  EXPECT_EQ(to_string(DaneResultType::kValidationFailure), "validation-failure");
  EXPECT_EQ(to_string(DaneResultType::kDnssecInvalid), "dnssec-invalid");
  EXPECT_EQ(to_string(DaneResultType::kNotApplicable), "na");
}

TEST(RenewalMismatch, F1CertificateRenewedAfterTheRrsetWasPublished) {
  const SystemTime published = SystemTime{} + std::chrono::hours(24 * 365 * 50);
  const SystemTime later = published + std::chrono::hours(1);
  const SystemTime earlier = published - std::chrono::hours(1);
  EXPECT_TRUE(renewed_after_tlsa_published(published, later, false));
  EXPECT_FALSE(renewed_after_tlsa_published(published, later, true));     // it matches: no problem
  EXPECT_FALSE(renewed_after_tlsa_published(published, earlier, false));  // the RRset is newer: other fault
  EXPECT_FALSE(renewed_after_tlsa_published(published, published, false));
  EXPECT_FALSE(renewed_after_tlsa_published(std::nullopt, later, false));
}

}  // namespace
}  // namespace mailtls::dane
