// observe_domain() + judge() end to end through its seams: a scripted resolver, a scripted MTA-STS policy
// fetcher and a real STARTTLS prober against an SMTP server on loopback that stalls
// (robustness finding R2: a stalling MX used to take the whole deadline, so MTA-STS and TLS-RPT
// were never checked and the report still gave them a verdict).

#include "probes/domain/observe.h"
#include "tests/fakes/observe_and_judge.h"

#include <gtest/gtest.h>

#include <memory>

#include "probes/domain/policy_checks.h"
#include "tests/fakes/domain_probe_fakes.h"

namespace mailtls::domain {
namespace {

using namespace probe_fakes;

constexpr const char* kTestingPolicy =
    "version: STSv1\nmode: testing\nmx: mx1.example.com\nmax_age: 86400\n";
constexpr const char* kEnforcePolicy =
    "version: STSv1\nmode: enforce\nmx: mx1.example.com\nmax_age: 86400\n";

class DomainProbeTest : public ::testing::Test {
 protected:
  void SetUp() override {
    resolver_.set("example.com", dns::RrType::kMx, {dns::encode_mx(10, "mx1.example.com")});
    resolver_.set("mx1.example.com", dns::RrType::kA, {dns::encode_address("127.0.0.1")});
    resolver_.set("_mta-sts.example.com", dns::RrType::kTxt,
                  {dns::encode_txt({"v=STSv1; id=20240101"})});
    resolver_.set("_smtp._tls.example.com", dns::RrType::kTxt,
                  {dns::encode_txt({"v=TLSRPTv1; rua=mailto:tlsrpt@example.com"})});
    tls::TrustStoreConfig trust;
    trust.use_system_roots = false;
    auto created = tls::WebPkiVerifier::create(trust);
    ASSERT_TRUE(created.verifier) << created.error;
    webpki_ = created.verifier;
  }

  // One probe of example.com, whose only MX address is `server`, within `timeout`.
  DomainReport probe(const SmtpTestServer& server, FakePolicyFetcher& fetcher,
                     std::chrono::milliseconds timeout) {
    smtp::StarttlsSettings smtp;
    smtp.ehlo_name = "probe.test";
    smtp.port = server.port();
    smtp::StarttlsProber prober(smtp, connector_);
    DomainProbeSettings s;
    s.timeout = timeout;
    s.smtp_port = server.port();
    s.probe_special_addresses = true;  // the server is on 127.0.0.1
    return testing::observe_and_judge("example.com", s,
                        DomainProbeSeams{resolver_, prober, *webpki_, fetcher, clock_});
  }

  static SmtpServerScript stalling() {
    SmtpServerScript s;
    s.mode = SmtpServerMode::kStallBeforeBanner;
    return s;
  }

  FakeResolver resolver_;
  smtp::TcpConnector connector_;
  SystemClock clock_;
  std::shared_ptr<const tls::WebPkiVerifier> webpki_;
};

TEST_F(DomainProbeTest, StallingMxDoesNotStarveMtaStsAndTlsRpt) {
  SmtpTestServer server(stalling());
  FakePolicyFetcher fetcher(FakePolicyFetcher::served(kTestingPolicy));
  const DomainReport r = probe(server, fetcher, std::chrono::milliseconds(1500));

  // The MX used up the deadline: the probe as a whole did not finish ...
  EXPECT_FALSE(r.probe_success);
  ASSERT_EQ(r.mx.size(), 1u);
  ASSERT_EQ(r.mx[0].addresses.size(), 1u);
  EXPECT_EQ(smtp::to_string(r.mx[0].addresses[0].failure_kind), "banner_timeout");
  // ... but MTA-STS was fetched while there was time left, and has its verdict.
  EXPECT_EQ(fetcher.calls(), 1);
  EXPECT_TRUE(fetcher.time_left_at_last_call());
  EXPECT_TRUE(r.mtasts.checked);
  EXPECT_FALSE(r.mtasts.timed_out);
  EXPECT_TRUE(r.mtasts.txt_valid);
  EXPECT_EQ(r.mtasts.txt_id, "20240101");
  EXPECT_TRUE(r.mtasts.fetch_ok);
  EXPECT_TRUE(r.mtasts.policy_valid) << r.mtasts.policy_error;
  EXPECT_EQ(r.mtasts.mode, mtasts::StsMode::kTesting);
  EXPECT_EQ(domain::to_string(r.mtasts.status), "testing");  // testing mode does not depend on the MX outcome
  EXPECT_EQ(r.mx[0].mtasts_covered, std::optional<bool>(true));
  // TLS-RPT too.
  EXPECT_TRUE(r.tlsrpt.checked);
  EXPECT_FALSE(r.tlsrpt.timed_out);
  EXPECT_TRUE(r.tlsrpt.present);
  EXPECT_TRUE(r.tlsrpt.valid) << r.tlsrpt.error;
  EXPECT_EQ(r.tlsrpt.rua, (std::vector<std::string>{"mailto:tlsrpt@example.com"}));
}

// In enforce mode the verdict needs every MX host's outcome; the stalled one has none, so the
// report says "not checked: timeout" instead of "broken", and keeps what it did find.
TEST_F(DomainProbeTest, EnforceVerdictWithAStalledMxIsNotChecked) {
  SmtpTestServer server(stalling());
  FakePolicyFetcher fetcher(FakePolicyFetcher::served(kEnforcePolicy));
  const DomainReport r = probe(server, fetcher, std::chrono::milliseconds(1500));
  EXPECT_FALSE(r.probe_success);
  EXPECT_TRUE(r.mtasts.timed_out);
  EXPECT_EQ(domain::to_string(r.mtasts.status), kNotCheckedTimeout);
  EXPECT_TRUE(r.mtasts.policy_valid);
  EXPECT_EQ(r.mtasts.mode, mtasts::StsMode::kEnforce);
  EXPECT_EQ(r.mx[0].mtasts_covered, std::optional<bool>(true));
  EXPECT_TRUE(r.tlsrpt.valid);
}

// A policy host that outlasts the deadline: MTA-STS is "not checked", never "broken" or
// "not_deployed"; TLS-RPT, looked up first, still has its answer.
// A policy host that never finishes (drip-feeding) is the domain's fault: the fetch ends a
// little before the probe's deadline with a fetch error, and MTA-STS gets a verdict.
TEST_F(DomainProbeTest, PolicyHostOutlastingTheFetchTimeIsAFetchError) {
  SmtpTestServer server(stalling());
  FakePolicyFetcher fetcher(FakePolicyFetcher::served(kTestingPolicy),
                            /*hold_until_deadline=*/true);
  const DomainReport r = probe(server, fetcher, std::chrono::milliseconds(1000));
  EXPECT_EQ(fetcher.calls(), 1);
  EXPECT_TRUE(r.mtasts.checked);
  EXPECT_FALSE(r.mtasts.timed_out);
  EXPECT_TRUE(r.mtasts.fetch_attempted);
  EXPECT_FALSE(r.mtasts.fetch_ok);
  EXPECT_EQ(r.mtasts.fetch_error, "timed out");
  EXPECT_EQ(domain::to_string(r.mtasts.status), "broken");
  EXPECT_TRUE(r.tlsrpt.valid);
  EXPECT_FALSE(r.tlsrpt.timed_out);
}

// Without time pressure every part finishes and has its verdict.
TEST_F(DomainProbeTest, WithoutTimePressureEveryVerdictIsGiven) {
  resolver_.set("example.com", dns::RrType::kMx, {});  // NODATA: the domain is its own MX
  resolver_.set("example.com", dns::RrType::kA, {});
  SmtpTestServer server(stalling());  // not reached: no address to probe
  FakePolicyFetcher fetcher(FakePolicyFetcher::served(kEnforcePolicy));
  const DomainReport r = probe(server, fetcher, std::chrono::milliseconds(5000));
  EXPECT_TRUE(r.probe_success) << r.probe_error;
  EXPECT_FALSE(r.mtasts.timed_out);
  EXPECT_EQ(domain::to_string(r.mtasts.status), "broken");  // enforce, and no MX host can pass
  EXPECT_TRUE(r.tlsrpt.valid);
  EXPECT_EQ(server.connections_accepted(), 0);
}

}  // namespace
}  // namespace mailtls::domain
