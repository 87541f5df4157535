#include "probes/dns/mx_resolution.h"

#include <gtest/gtest.h>

#include "probes/dns/resolver_self_test.h"
#include "tests/fakes/fake_resolver.h"

namespace mailtls::dns {
namespace {

using testing::FakeResolver;
Deadline soon() { return Deadline::after(std::chrono::seconds(5)); }

TEST(MxResolutionTest, SortedByPreferenceThenName) {
  FakeResolver f;
  f.set("example.test", RrType::kMx,
        {encode_mx(20, "b.example.test"), encode_mx(10, "mx2.example.test"),
         encode_mx(10, "mx1.example.test"), encode_mx(10, "mx1.example.test")});
  const auto r = resolve_mx(f, "Example.Test.", soon());
  EXPECT_EQ(r.status, MxStatus::kMxRecords);
  EXPECT_EQ(r.domain, "example.test");
  EXPECT_EQ(r.hosts, (std::vector<MxRecord>{{10, "mx1.example.test"},
                                            {10, "mx2.example.test"},
                                            {20, "b.example.test"}}));
  EXPECT_EQ(r.mx_answer.security, Security::kSecure);
}

TEST(MxResolutionTest, NullMx) {
  FakeResolver f;
  f.set("nomail.test", RrType::kMx, {encode_mx(0, ".")});
  const auto r = resolve_mx(f, "nomail.test", soon());
  EXPECT_EQ(r.status, MxStatus::kNullMx);
  EXPECT_TRUE(r.hosts.empty());
}

// M2: a null MX beside other MX records is not allowed.
TEST(MxResolutionTest, NullMxWithOthersIsInvalid) {
  FakeResolver f;
  f.set("mixed.test", RrType::kMx, {encode_mx(0, "."), encode_mx(10, "mx.mixed.test")});
  const auto r = resolve_mx(f, "mixed.test", soon());
  EXPECT_EQ(r.status, MxStatus::kInvalidNullMx);
  EXPECT_EQ(r.hosts, (std::vector<MxRecord>{{10, "mx.mixed.test"}}));
}

// M3: no MX RRset -> the domain itself, with the MX answer kept for its DNSSEC state.
TEST(MxResolutionTest, ImplicitMx) {
  FakeResolver f;
  f.set("nomx.test", RrType::kMx, {}, Security::kSecure);
  const auto r = resolve_mx(f, "nomx.test", soon());
  EXPECT_EQ(r.status, MxStatus::kImplicitMx);
  EXPECT_EQ(r.hosts, (std::vector<MxRecord>{{0, "nomx.test"}}));
  EXPECT_EQ(r.mx_answer.outcome, Outcome::kNoData);
}

TEST(MxResolutionTest, NxDomain) {
  FakeResolver f;
  EXPECT_EQ(resolve_mx(f, "gone.test", soon()).status, MxStatus::kNxDomain);
}

// M1: bogus or indeterminate MX -> lookup failed, never "no MX".
TEST(MxResolutionTest, BogusAndServfailAreLookupFailures) {
  FakeResolver f;
  f.fail("bogus.test", RrType::kMx, Security::kBogus, "signature expired");
  f.fail("broken.test", RrType::kMx, Security::kIndeterminate, "rcode SERVFAIL");
  const auto b = resolve_mx(f, "bogus.test", soon());
  EXPECT_EQ(b.status, MxStatus::kLookupFailed);
  EXPECT_EQ(b.reason, "signature expired");
  EXPECT_TRUE(b.hosts.empty());
  EXPECT_EQ(resolve_mx(f, "broken.test", soon()).status, MxStatus::kLookupFailed);
}

TEST(MxResolutionTest, MalformedRecordsAreCounted) {
  FakeResolver f;
  f.set("odd.test", RrType::kMx, {std::string("\x00", 1), encode_mx(5, "mx.odd.test")});
  const auto r = resolve_mx(f, "odd.test", soon());
  EXPECT_EQ(r.malformed, 1);
  EXPECT_EQ(r.hosts.size(), 1u);
  FakeResolver g;
  g.set("odd.test", RrType::kMx, {std::string("\x00", 1)});
  EXPECT_EQ(resolve_mx(g, "odd.test", soon()).status, MxStatus::kLookupFailed);
}

// D1 vectors for the self-test.
TEST(ResolverSelfTestTest, SecureNameValidates) {
  FakeResolver f;
  f.set("signed.test", RrType::kA, {encode_address("192.0.2.1")});
  f.fail("bogus.test", RrType::kA, Security::kBogus);
  ResolverConfig c;
  c.self_test_secure_name = "signed.test";
  c.self_test_bogus_name = "bogus.test";
  const auto r = run_resolver_self_test(f, c, soon());
  EXPECT_TRUE(r.validating) << r.reason;
}

TEST(ResolverSelfTestTest, NoTrustAnchorMeansNotValidating) {
  FakeResolver f;
  f.set("signed.test", RrType::kA, {encode_address("192.0.2.1")}, Security::kInsecure);
  ResolverConfig c;
  c.self_test_secure_name = "signed.test";
  const auto r = run_resolver_self_test(f, c, soon());
  EXPECT_FALSE(r.validating);
  EXPECT_NE(r.reason.find("not armed"), std::string::npos);
}

TEST(ResolverSelfTestTest, BogusNameMustBeBogus) {
  FakeResolver f;
  f.set("signed.test", RrType::kA, {}, Security::kSecure);  // secure NODATA is proof enough
  f.set("bogus.test", RrType::kA, {encode_address("192.0.2.1")}, Security::kInsecure);
  ResolverConfig c;
  c.self_test_secure_name = "signed.test";
  c.self_test_bogus_name = "bogus.test";
  const auto r = run_resolver_self_test(f, c, soon());
  EXPECT_FALSE(r.validating);
  EXPECT_NE(r.reason.find("bogus"), std::string::npos);
}

TEST(ResolverSelfTestTest, RootDnskeyWhenNoNameConfigured) {
  FakeResolver f;
  Answer root;
  root.qname = ".";
  root.type = static_cast<RrType>(48);
  root.outcome = Outcome::kData;
  root.security = Security::kSecure;
  root.rdata = {"key"};
  f.set_answer(root);
  EXPECT_TRUE(run_resolver_self_test(f, ResolverConfig{}, soon()).validating);
  FakeResolver unarmed;  // no trust anchor: the root keys come back insecure
  root.security = Security::kInsecure;
  unarmed.set_answer(root);
  EXPECT_FALSE(run_resolver_self_test(unarmed, ResolverConfig{}, soon()).validating);
}

}  // namespace
}  // namespace mailtls::dns
