// docs/verdicts.md T2 (every vector), T3, T4 and M7 with a scripted resolver.
#include "probes/dns/tlsa_base_domain.h"

#include <gtest/gtest.h>

#include "tests/fakes/fake_resolver.h"

namespace mailtls::dns {
namespace {

using testing::FakeResolver;
const std::string kDigestX(32, 'x');
const std::string kDigestY(32, 'y');

std::string tlsa(int usage, int selector, int mtype, const std::string& data) {
  TlsaRecord r;
  r.usage = static_cast<std::uint8_t>(usage);
  r.selector = static_cast<std::uint8_t>(selector);
  r.matching_type = static_cast<std::uint8_t>(mtype);
  r.data.assign(data.begin(), data.end());
  return encode_tlsa(r);
}

// An address answer for `name` that libunbound reached by following aliases to `canonical`,
// with the chain's overall security.
void alias_address(FakeResolver& f, const std::string& name, RrType type,
                   const std::string& canonical, std::string ip, Security sec) {
  Answer a;
  a.qname = name;
  a.type = type;
  a.outcome = Outcome::kData;
  a.security = sec;
  a.rcode = 0;
  a.canonical_name = canonical;
  a.rdata = {encode_address(ip)};
  f.set_answer(a);
}

void secure_nodata(FakeResolver& f, const std::string& name, RrType type) {
  f.set(name, type, {}, Security::kSecure);
}

Deadline soon() { return Deadline::after(std::chrono::seconds(5)); }

// T2 a): not an alias, secure addresses -> the only candidate is the host.
TEST(TlsaBaseDomainTest, CaseA_PlainSecureHost) {
  FakeResolver f;
  f.set("mx1.example.test", RrType::kA, {encode_address("192.0.2.1")});
  f.set("mx1.example.test", RrType::kAaaa, {encode_address("2001:db8::1")});
  f.set("_25._tcp.mx1.example.test", RrType::kTlsa, {tlsa(3, 1, 1, kDigestX)});
  const auto r = find_tlsa_base_domain(f, "MX1.example.test.", soon());
  EXPECT_EQ(r.applicability, DaneApplicability::kDaneAppliesUsable);
  EXPECT_EQ(r.candidates, std::vector<std::string>{"mx1.example.test"});
  EXPECT_EQ(r.base_domain, "mx1.example.test");
  EXPECT_EQ(r.addresses, (std::vector<HostAddress>{{"192.0.2.1", 4}, {"2001:db8::1", 6}}));
  EXPECT_TRUE(r.addresses_secure);
  ASSERT_EQ(r.tlsa_records.size(), 1u);
  EXPECT_EQ(r.tlsa_records[0].usage, 3);
  ASSERT_EQ(r.answers.size(), 3u);  // A, AAAA, TLSA; no CNAME query for a non-alias
  EXPECT_EQ(r.answers[0].type, RrType::kA);
  EXPECT_EQ(r.answers[1].type, RrType::kAaaa);
  EXPECT_EQ(r.answers[2].type, RrType::kTlsa);
}

// T2 b): insecure addresses and no CNAME -> no TLSA lookup at all.
TEST(TlsaBaseDomainTest, CaseB_InsecureHostSkipsTlsa) {
  FakeResolver f;
  f.set("mx.insecure.test", RrType::kA, {encode_address("192.0.2.2")}, Security::kInsecure);
  f.set("mx.insecure.test", RrType::kAaaa, {}, Security::kInsecure);
  f.fail("_25._tcp.mx.insecure.test", RrType::kTlsa, Security::kIndeterminate, "NOTIMP");
  const auto r = find_tlsa_base_domain(f, "mx.insecure.test", soon());
  EXPECT_EQ(r.applicability, DaneApplicability::kNotApplicableInsecure);
  EXPECT_TRUE(r.candidates.empty());
  EXPECT_EQ(f.lookups(), 2);  // D9 vector: a compliant sender does not ask TLSA here
}

// T2 c) / D6 vector: mx.ex CNAME mx.prov; prov unsigned, ex signed -> candidate mx.ex only.
TEST(TlsaBaseDomainTest, CaseC_SecureCnameToInsecureTarget) {
  FakeResolver f;
  alias_address(f, "mx.ex.test", RrType::kA, "mx.prov.test", "192.0.2.3", Security::kInsecure);
  f.set("mx.ex.test", RrType::kAaaa, {}, Security::kInsecure);
  f.set("mx.ex.test", RrType::kCname, {encode_name("mx.prov.test")}, Security::kSecure);
  f.set("_25._tcp.mx.ex.test", RrType::kTlsa, {tlsa(3, 1, 1, kDigestY)});
  f.set("_25._tcp.mx.prov.test", RrType::kTlsa, {tlsa(3, 1, 1, kDigestX)});
  const auto r = find_tlsa_base_domain(f, "mx.ex.test", soon());
  EXPECT_EQ(r.canonical_name, "mx.prov.test");
  EXPECT_TRUE(r.initial_cname_secure);
  EXPECT_EQ(r.candidates, std::vector<std::string>{"mx.ex.test"});
  EXPECT_EQ(r.base_domain, "mx.ex.test");
  EXPECT_EQ(r.applicability, DaneApplicability::kDaneAppliesUsable);
  ASSERT_EQ(r.tlsa_records.size(), 1u);
  EXPECT_EQ(r.tlsa_records[0].data, std::vector<std::uint8_t>(kDigestY.begin(), kDigestY.end()));
}

// T2 c) second half: initial CNAME insecure as well -> DANE does not apply.
TEST(TlsaBaseDomainTest, CaseC_InsecureCnameMeansNoDane) {
  FakeResolver f;
  alias_address(f, "mx.ex.test", RrType::kA, "mx.prov.test", "192.0.2.3", Security::kInsecure);
  f.set("mx.ex.test", RrType::kAaaa, {}, Security::kInsecure);
  f.set("mx.ex.test", RrType::kCname, {encode_name("mx.prov.test")}, Security::kInsecure);
  const auto r = find_tlsa_base_domain(f, "mx.ex.test", soon());
  EXPECT_EQ(r.applicability, DaneApplicability::kNotApplicableInsecure);
  EXPECT_TRUE(r.candidates.empty());
  EXPECT_FALSE(r.initial_cname_secure);
}

// T2 d) vector 1: mx.ex CNAME mx.prov; TLSA at mx.prov -> base = mx.prov.
TEST(TlsaBaseDomainTest, CaseD_ExpandedNameFirst) {
  FakeResolver f;
  alias_address(f, "mx.ex.test", RrType::kA, "mx.prov.test", "192.0.2.4", Security::kSecure);
  f.set("mx.ex.test", RrType::kAaaa, {}, Security::kSecure);
  f.set("mx.ex.test", RrType::kCname, {encode_name("mx.prov.test")});
  f.set("_25._tcp.mx.prov.test", RrType::kTlsa, {tlsa(3, 1, 1, kDigestX)});
  f.set("_25._tcp.mx.ex.test", RrType::kTlsa, {tlsa(3, 1, 1, kDigestY)});
  const auto r = find_tlsa_base_domain(f, "mx.ex.test", soon());
  EXPECT_EQ(r.candidates, (std::vector<std::string>{"mx.prov.test", "mx.ex.test"}));
  EXPECT_EQ(r.base_domain, "mx.prov.test");
  EXPECT_EQ(r.applicability, DaneApplicability::kDaneAppliesUsable);
  EXPECT_EQ(r.tlsa_answer.qname, "_25._tcp.mx.prov.test");
}

// T2 d) vector 2: _25._tcp.mx.prov NXDOMAIN, TLSA at mx.ex -> base = mx.ex.
TEST(TlsaBaseDomainTest, CaseD_FallsBackToOriginalName) {
  FakeResolver f;  // anything unscripted is a secure NXDOMAIN
  alias_address(f, "mx.ex.test", RrType::kA, "mx.prov.test", "192.0.2.4", Security::kSecure);
  secure_nodata(f, "mx.ex.test", RrType::kAaaa);
  f.set("mx.ex.test", RrType::kCname, {encode_name("mx.prov.test")});
  f.set("_25._tcp.mx.ex.test", RrType::kTlsa, {tlsa(3, 1, 1, kDigestY)});
  const auto r = find_tlsa_base_domain(f, "mx.ex.test", soon());
  EXPECT_EQ(r.base_domain, "mx.ex.test");
  EXPECT_EQ(r.applicability, DaneApplicability::kDaneAppliesUsable);
  ASSERT_EQ(r.answers.size(), 5u);  // A, AAAA, CNAME, TLSA at mx.prov, TLSA at mx.ex
  EXPECT_EQ(r.answers[3].outcome, Outcome::kNxDomain);
}

// T2 d) vector 3: mx.ex CNAME a.prov CNAME b.prov, TLSA only at a.prov -> not used: no TLSA.
TEST(TlsaBaseDomainTest, CaseD_MiddleOfChainIsNeverACandidate) {
  FakeResolver f;
  alias_address(f, "mx.ex.test", RrType::kA, "b.prov.test", "192.0.2.5", Security::kSecure);
  secure_nodata(f, "mx.ex.test", RrType::kAaaa);
  f.set("mx.ex.test", RrType::kCname, {encode_name("a.prov.test")});
  f.set("_25._tcp.a.prov.test", RrType::kTlsa, {tlsa(3, 1, 1, kDigestX)});
  const auto r = find_tlsa_base_domain(f, "mx.ex.test", soon());
  EXPECT_EQ(r.candidates, (std::vector<std::string>{"b.prov.test", "mx.ex.test"}));
  EXPECT_EQ(r.applicability, DaneApplicability::kNotApplicableNoTlsa);
  EXPECT_EQ(r.base_domain, "");
}

// T3: a CNAME at the TLSA owner name does not change the base domain.
TEST(TlsaBaseDomainTest, T3_TlsaCnameKeepsBaseDomain) {
  FakeResolver f;
  f.set("mx1.example.test", RrType::kA, {encode_address("192.0.2.6")});
  secure_nodata(f, "mx1.example.test", RrType::kAaaa);
  Answer t;
  t.qname = "_25._tcp.mx1.example.test";
  t.type = RrType::kTlsa;
  t.outcome = Outcome::kData;
  t.security = Security::kSecure;
  t.rcode = 0;
  t.canonical_name = "tlsa201._dane.example.test";
  t.rdata = {tlsa(2, 0, 1, kDigestX)};
  f.set_answer(t);
  const auto r = find_tlsa_base_domain(f, "mx1.example.test", soon());
  EXPECT_EQ(r.base_domain, "mx1.example.test");
  EXPECT_EQ(r.applicability, DaneApplicability::kDaneAppliesUsable);
}

// T4 rows.
TEST(TlsaBaseDomainTest, T4_SecureButNoneUsable) {
  FakeResolver f;
  f.set("mx1.example.test", RrType::kA, {encode_address("192.0.2.7")});
  secure_nodata(f, "mx1.example.test", RrType::kAaaa);
  f.set("_25._tcp.mx1.example.test", RrType::kTlsa,
        {tlsa(3, 1, 1, "\xab\xcd"), tlsa(4, 1, 1, kDigestX), tlsa(1, 1, 1, kDigestX)});
  const auto r = find_tlsa_base_domain(f, "mx1.example.test", soon());
  EXPECT_EQ(r.applicability, DaneApplicability::kDaneAppliesNoneUsable);
  EXPECT_EQ(r.tlsa_records.size(), 3u);
}

TEST(TlsaBaseDomainTest, T4_SecureDenialIsNoTlsa) {
  FakeResolver f;
  f.set("mx1.example.test", RrType::kA, {encode_address("192.0.2.8")});
  secure_nodata(f, "mx1.example.test", RrType::kAaaa);
  secure_nodata(f, "_25._tcp.mx1.example.test", RrType::kTlsa);
  const auto r = find_tlsa_base_domain(f, "mx1.example.test", soon());
  EXPECT_EQ(r.applicability, DaneApplicability::kNotApplicableNoTlsa);
  EXPECT_EQ(r.tlsa_answer.outcome, Outcome::kNoData);
}

TEST(TlsaBaseDomainTest, T4_BogusOrIndeterminateTlsaIsLookupFailed) {
  for (Security sec : {Security::kBogus, Security::kIndeterminate}) {
    FakeResolver f;
    f.set("mx1.example.test", RrType::kA, {encode_address("192.0.2.9")});
    secure_nodata(f, "mx1.example.test", RrType::kAaaa);
    f.fail("_25._tcp.mx1.example.test", RrType::kTlsa, sec, "NODATA proof missing");
    const auto r = find_tlsa_base_domain(f, "mx1.example.test", soon());
    EXPECT_EQ(r.applicability, DaneApplicability::kLookupFailed) << to_string(sec);
    EXPECT_NE(r.reason.find("NODATA proof missing"), std::string::npos);
  }
}

TEST(TlsaBaseDomainTest, T4_InsecureTlsaIsNotApplicable) {
  FakeResolver f;
  f.set("mx1.example.test", RrType::kA, {encode_address("192.0.2.10")});
  secure_nodata(f, "mx1.example.test", RrType::kAaaa);
  f.set("_25._tcp.mx1.example.test", RrType::kTlsa, {tlsa(3, 1, 1, kDigestX)},
        Security::kInsecure);
  const auto r = find_tlsa_base_domain(f, "mx1.example.test", soon());
  EXPECT_EQ(r.applicability, DaneApplicability::kNotApplicableInsecure);
  EXPECT_EQ(r.base_domain, "");
}

TEST(TlsaBaseDomainTest, BogusAddressIsLookupFailedBeforeTlsa) {
  FakeResolver f;
  f.fail("mx1.example.test", RrType::kA, Security::kBogus, "signature expired");
  secure_nodata(f, "mx1.example.test", RrType::kAaaa);
  const auto r = find_tlsa_base_domain(f, "mx1.example.test", soon());
  EXPECT_EQ(r.applicability, DaneApplicability::kLookupFailed);
  EXPECT_EQ(f.lookups(), 2);
}

// M7 vector: NXDOMAIN for A and AAAA -> unresolvable, which a DANE sender cannot deliver to.
TEST(TlsaBaseDomainTest, M7_NoAddressesIsLookupFailed) {
  FakeResolver f;
  const auto r = find_tlsa_base_domain(f, "mx.example.test", soon());
  EXPECT_EQ(r.applicability, DaneApplicability::kLookupFailed);
  EXPECT_TRUE(r.addresses.empty());
  EXPECT_NE(r.reason.find("unreachable"), std::string::npos);
}

TEST(TlsaBaseDomainTest, PortIsConfigurable) {
  FakeResolver f;
  f.set("relay.example.test", RrType::kA, {encode_address("192.0.2.11")});
  secure_nodata(f, "relay.example.test", RrType::kAaaa);
  f.set("_587._tcp.relay.example.test", RrType::kTlsa, {tlsa(3, 1, 1, kDigestX)});
  const auto r = find_tlsa_base_domain(f, "relay.example.test", soon(), 587);
  EXPECT_EQ(r.applicability, DaneApplicability::kDaneAppliesUsable);
}

TEST(TlsaRecordUsableTest, T5Vectors) {
  auto rec = [](int u, int s, int m, std::size_t n) {
    return TlsaRecord{static_cast<std::uint8_t>(u), static_cast<std::uint8_t>(s),
                      static_cast<std::uint8_t>(m), std::vector<std::uint8_t>(n, 1)};
  };
  EXPECT_TRUE(tlsa_record_usable_for_smtp(rec(3, 1, 1, 32)));
  EXPECT_TRUE(tlsa_record_usable_for_smtp(rec(2, 0, 2, 64)));
  EXPECT_TRUE(tlsa_record_usable_for_smtp(rec(3, 1, 0, 91)));
  EXPECT_FALSE(tlsa_record_usable_for_smtp(rec(3, 1, 1, 2)));   // "3 1 1 ABCD"
  EXPECT_FALSE(tlsa_record_usable_for_smtp(rec(4, 1, 1, 32)));  // unknown usage
  EXPECT_FALSE(tlsa_record_usable_for_smtp(rec(1, 1, 1, 32)));  // PKIX-EE on port 25
  EXPECT_FALSE(tlsa_record_usable_for_smtp(rec(0, 1, 1, 32)));
  EXPECT_FALSE(tlsa_record_usable_for_smtp(rec(3, 2, 1, 32)));
  EXPECT_FALSE(tlsa_record_usable_for_smtp(rec(3, 1, 3, 32)));
  EXPECT_FALSE(tlsa_record_usable_for_smtp(rec(3, 1, 0, 0)));   // empty Full(0)
  EXPECT_FALSE(tlsa_record_usable_for_smtp(rec(3, 1, 2, 32)));
}

}  // namespace
}  // namespace mailtls::dns
