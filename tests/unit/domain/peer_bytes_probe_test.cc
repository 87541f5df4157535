// An MX target whose first label holds an octet that is not printable ASCII and a literal dot
// ("\255\.x.example.com" in presentation format, security review finding 2): the probe asks
// about it under that name, but never sends it as SNI and never lets it match a certificate
// or an MTA-STS mx: pattern ("*.x.example.com" must not take "\255\." for a label boundary).

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>

#include "probes/domain/observe.h"
#include "tests/fakes/observe_and_judge.h"
#include "tests/fakes/fake_policy_fetcher.h"
#include "tests/fakes/fake_resolver.h"
#include "tests/fakes/smtp_test_server.h"
#include "tests/fakes/test_certs.h"

namespace mailtls::domain {
namespace {

using testing::FakePolicyFetcher;
using testing::FakeResolver;
using testing::SmtpServerScript;
using testing::SmtpTestServer;

constexpr const char* kHost = "\\255\\.x.example.com";

TEST(PeerBytesProbe, ANameThatIsNoHostNameIsNeitherSniNorACertificateOrPatternMatch) {
  const auto ca = testing::make_test_ca("Peer Bytes Root");
  // The SAN spells the escapes literally, the way a name check against the text would match.
  const auto leaf = testing::make_test_leaf({.common_name = kHost, .dns_names = {kHost}}, ca);
  const auto ca_file = std::filesystem::path(::testing::TempDir()) /
                       ("peer_bytes_probe_ca_" + std::to_string(getpid()) + ".pem");
  testing::write_text_file(ca_file.string(), ca.pem());
  tls::TrustStoreConfig trust;
  trust.use_system_roots = false;
  trust.extra_ca_files = {ca_file.string()};
  auto webpki = tls::WebPkiVerifier::create(trust);
  ASSERT_TRUE(webpki.verifier) << webpki.error;

  SmtpServerScript script;
  script.cert_chain_pem = leaf.pem() + ca.pem();
  script.key_pem = leaf.key_pem();
  SmtpTestServer server(script);

  FakeResolver resolver;
  resolver.set("example.com", dns::RrType::kMx, {dns::encode_mx(10, kHost)});
  resolver.set(kHost, dns::RrType::kA, {dns::encode_address("127.0.0.1")});
  resolver.set("_mta-sts.example.com", dns::RrType::kTxt,
               {dns::encode_txt({"v=STSv1; id=20240101"})});
  FakePolicyFetcher fetcher(FakePolicyFetcher::served(
      "version: STSv1\nmode: enforce\nmx: *.x.example.com\nmax_age: 86400\n"));

  smtp::StarttlsSettings smtp;
  smtp.ehlo_name = "probe.test";
  smtp.port = server.port();
  smtp::TcpConnector connector;
  smtp::StarttlsProber prober(smtp, connector);
  SystemClock clock;
  DomainProbeSettings s;
  s.timeout = std::chrono::seconds(10);
  s.smtp_port = server.port();
  s.probe_special_addresses = true;
  s.check_tlsrpt = false;
  const DomainReport r = testing::observe_and_judge(
      "example.com", s, DomainProbeSeams{resolver, prober, *webpki.verifier, fetcher, clock});
  std::filesystem::remove(ca_file);

  ASSERT_EQ(r.mx.size(), 1u);
  EXPECT_EQ(r.mx[0].host, kHost);
  ASSERT_EQ(r.mx[0].addresses.size(), 1u);
  const auto& a = r.mx[0].addresses[0];
  EXPECT_TRUE(a.starttls_ok) << a.failure;
  EXPECT_EQ(server.last_sni(), "");  // no SNI: a server name cannot hold these octets
  EXPECT_EQ(a.pkix_valid, std::optional<bool>(false));
  EXPECT_EQ(a.pkix_result_type, "certificate-host-mismatch");
  EXPECT_EQ(r.mx[0].mtasts_covered, std::optional<bool>(false));
}

}  // namespace
}  // namespace mailtls::domain
