// Every case of docs/verdicts.md D3, in the order it gives them.
#include "probes/dns/ub_result_classification.h"

#include <gtest/gtest.h>

#include "probes/dns/records.h"

namespace mailtls::dns {
namespace {

const SystemTime kNow = SystemTime(std::chrono::seconds(1'700'000'000));

UbResultFields secure_data() {
  UbResultFields f;
  f.rcode = 0;
  f.havedata = true;
  f.secure = true;
  f.ttl = 300;
  f.data = {encode_address("192.0.2.1")};
  return f;
}

TEST(UbResultClassificationTest, LocalErrorIsIndeterminate) {
  UbResultFields f;
  f.err = -2;
  f.err_text = "out of memory";
  const Answer a = classify_ub_result("Example.TEST.", RrType::kA, f, kNow);
  EXPECT_EQ(a.qname, "example.test");
  EXPECT_EQ(a.outcome, Outcome::kError);
  EXPECT_EQ(a.security, Security::kIndeterminate);
  EXPECT_EQ(a.rcode, -1);
  EXPECT_EQ(a.reason, "out of memory");
  EXPECT_TRUE(a.failed());
}

TEST(UbResultClassificationTest, NullResultIsIndeterminate) {
  UbResultFields f;
  f.have_result = false;
  const Answer a = classify_ub_result("example.test", RrType::kA, f, kNow);
  EXPECT_EQ(a.outcome, Outcome::kError);
  EXPECT_EQ(a.security, Security::kIndeterminate);
}

// D3 vector: {rcode:0, havedata:1, secure:0, bogus:1, why_bogus:"signature expired"} -> BOGUS.
TEST(UbResultClassificationTest, BogusWithDataIsBogusNotData) {
  UbResultFields f = secure_data();
  f.secure = false;
  f.bogus = true;
  f.why_bogus = "signature expired";
  const Answer a = classify_ub_result("example.test", RrType::kA, f, kNow);
  EXPECT_EQ(a.security, Security::kBogus);
  EXPECT_EQ(a.outcome, Outcome::kError);
  EXPECT_TRUE(a.rdata.empty());
  EXPECT_EQ(a.ttl, 0u);  // a bogus TTL cannot be trusted
  EXPECT_EQ(a.reason, "signature expired");
  EXPECT_FALSE(a.usable());
  EXPECT_TRUE(a.failed());
}

TEST(UbResultClassificationTest, BogusIsCheckedBeforeRcode) {
  UbResultFields f;
  f.rcode = 2;
  f.bogus = true;
  EXPECT_EQ(classify_ub_result("x.test", RrType::kA, f, kNow).security, Security::kBogus);
}

// D3 vector: {rcode:2, secure:0, bogus:0} -> ERROR, not INSECURE.
TEST(UbResultClassificationTest, ServfailIsErrorNotInsecure) {
  UbResultFields f;
  f.rcode = 2;
  const Answer a = classify_ub_result("example.test", RrType::kTlsa, f, kNow);
  EXPECT_EQ(a.outcome, Outcome::kError);
  EXPECT_EQ(a.security, Security::kIndeterminate);
  EXPECT_EQ(a.rcode, 2);
  EXPECT_EQ(a.reason, "rcode SERVFAIL");
}

TEST(UbResultClassificationTest, RefusedAndNotimpAreErrors) {
  for (int rcode : {1, 4, 5, 9}) {
    UbResultFields f;
    f.rcode = rcode;
    f.secure = true;  // never trusted next to an error rcode
    const Answer a = classify_ub_result("example.test", RrType::kTlsa, f, kNow);
    EXPECT_EQ(a.outcome, Outcome::kError) << rcode;
    EXPECT_EQ(a.security, Security::kIndeterminate) << rcode;
  }
}

TEST(UbResultClassificationTest, RateLimitedIsError) {
  UbResultFields f = secure_data();
  f.was_ratelimited = true;
  const Answer a = classify_ub_result("example.test", RrType::kA, f, kNow);
  EXPECT_EQ(a.outcome, Outcome::kError);
  EXPECT_EQ(a.security, Security::kIndeterminate);
  EXPECT_EQ(a.reason, "rate limited");
}

TEST(UbResultClassificationTest, SecureData) {
  UbResultFields f = secure_data();
  f.canonname = "Example.TEST.";
  const Answer a = classify_ub_result("example.test.", RrType::kA, f, kNow);
  EXPECT_EQ(a.outcome, Outcome::kData);
  EXPECT_EQ(a.security, Security::kSecure);
  EXPECT_EQ(a.rcode, 0);
  EXPECT_EQ(a.ttl, 300u);
  EXPECT_EQ(a.canonical_name, "example.test");
  ASSERT_EQ(a.rdata.size(), 1u);
  EXPECT_EQ(decode_address(a).records.at(0), "192.0.2.1");
  EXPECT_TRUE(a.usable());
  EXPECT_FALSE(a.failed());
}

TEST(UbResultClassificationTest, SecureNoDataAndNxDomain) {
  UbResultFields nodata;
  nodata.secure = true;
  const Answer a = classify_ub_result("example.test", RrType::kTlsa, nodata, kNow);
  EXPECT_EQ(a.outcome, Outcome::kNoData);
  EXPECT_EQ(a.security, Security::kSecure);
  EXPECT_FALSE(a.failed());  // D2: proven absence is not an error

  UbResultFields nx;
  nx.rcode = 3;
  nx.nxdomain = true;
  nx.secure = true;
  const Answer b = classify_ub_result("example.test", RrType::kTlsa, nx, kNow);
  EXPECT_EQ(b.outcome, Outcome::kNxDomain);
  EXPECT_EQ(b.security, Security::kSecure);
  EXPECT_EQ(b.rcode, 3);
}

TEST(UbResultClassificationTest, InsecureDataNoDataNxDomain) {
  UbResultFields data = secure_data();
  data.secure = false;
  EXPECT_EQ(classify_ub_result("x.test", RrType::kA, data, kNow).security, Security::kInsecure);
  EXPECT_EQ(classify_ub_result("x.test", RrType::kA, data, kNow).outcome, Outcome::kData);

  UbResultFields nodata;
  const Answer b = classify_ub_result("x.test", RrType::kA, nodata, kNow);
  EXPECT_EQ(b.security, Security::kInsecure);
  EXPECT_EQ(b.outcome, Outcome::kNoData);

  UbResultFields nx;
  nx.rcode = 3;
  nx.nxdomain = true;
  const Answer c = classify_ub_result("x.test", RrType::kA, nx, kNow);
  EXPECT_EQ(c.security, Security::kInsecure);
  EXPECT_EQ(c.outcome, Outcome::kNxDomain);
}

TEST(UbResultClassificationTest, CanonicalNameDefaultsToQname) {
  const Answer a = classify_ub_result("MX.example.test", RrType::kA, secure_data(), kNow);
  EXPECT_EQ(a.canonical_name, "mx.example.test");
}

}  // namespace
}  // namespace mailtls::dns
