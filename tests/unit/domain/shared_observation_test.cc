// Domains that lead to the same endpoint share one STARTTLS observation (issue 19): counted at
// the SMTP server, two domains with the same MX host cause one session, and a domain whose MX
// host has another name (another SNI name) at the same address gets its own. The WebPKI check
// of the shared chain for the shared MX host name is made once per observation (chain_memo.h);
// the verdicts stay per domain. The answer of the handshake limited to the other key type (T14)
// is also kept across probes, for smtp.key_type_recheck_interval and while the first handshake
// shows the same chain.

#include <gtest/gtest.h>

#include <chrono>
#include <memory>
#include <thread>

#include "probes/domain/observe.h"
#include "tests/fakes/observe_and_judge.h"
#include "tests/fakes/domain_probe_fakes.h"
#include "tests/fakes/test_certs.h"

namespace mailtls::domain {
namespace {

using namespace probe_fakes;

class SharedObservationTest : public ::testing::Test {
 protected:
  void SetUp() override {
    // hosted-1 and hosted-2 point at the provider's MX host; own.example has an MX host of its
    // own name on the same address.
    resolver_.set("hosted-1.example", dns::RrType::kMx, {dns::encode_mx(10, "mx.provider.example")});
    resolver_.set("hosted-2.example", dns::RrType::kMx, {dns::encode_mx(10, "mx.provider.example")});
    resolver_.set("own.example", dns::RrType::kMx, {dns::encode_mx(10, "mail.own.example")});
    resolver_.set("mx.provider.example", dns::RrType::kA, {dns::encode_address("127.0.0.1")});
    resolver_.set("mail.own.example", dns::RrType::kA, {dns::encode_address("127.0.0.1")});
    ca_ = std::make_unique<testing::TestCert>(testing::make_test_ca("Shared Test Root"));
    leaf_ = std::make_unique<testing::TestCert>(testing::make_test_leaf(
        {.common_name = "mx.provider.example", .dns_names = {"mx.provider.example"}}, *ca_));
    tls::TrustStoreConfig trust;
    trust.use_system_roots = false;
    trust.extra_ca_der = {ca_->der()};
    auto created = tls::WebPkiVerifier::create(trust);
    ASSERT_TRUE(created.verifier) << created.error;
    webpki_ = created.verifier;
  }

  SmtpServerScript script() const {
    SmtpServerScript s;
    s.cert_chain_pem = leaf_->pem() + ca_->pem();
    s.key_pem = leaf_->key_pem();
    return s;
  }

  DomainReport probe(const std::string& domain, const SmtpTestServer& server,
                     smtp::StarttlsObservationCache* cache,
                     std::chrono::milliseconds max_age = std::chrono::hours(1),
                     std::chrono::milliseconds timeout = std::chrono::seconds(10),
                     smtp::KeyTypeAnswers* key_type_answers = nullptr) {
    smtp::StarttlsSettings smtp;
    smtp.port = server.port();
    smtp::StarttlsProber prober(smtp, connector_);
    DomainProbeSettings s;
    s.timeout = timeout;
    s.smtp_port = server.port();
    s.probe_special_addresses = true;  // the server is on 127.0.0.1
    s.check_mtasts = false;
    s.check_tlsrpt = false;
    s.observation_max_age = max_age;
    return testing::observe_and_judge(
        domain, s,
        DomainProbeSeams{resolver_, prober, *webpki_, fetcher_, clock_, cache, key_type_answers});
  }

  // hosted-1.example, then hosted-2.example, sharing one cache with a session counter.
  struct HostedPair {
    DomainReport first;
    DomainReport second;
    std::shared_ptr<smtp::SmtpSessionCounter> sessions;
  };
  HostedPair probe_both_hosted(const SmtpTestServer& server) {
    auto sessions = std::make_shared<smtp::SmtpSessionCounter>();
    smtp::StarttlsObservationCache cache(sessions);
    auto first = probe("hosted-1.example", server, &cache);
    auto second = probe("hosted-2.example", server, &cache);
    return {std::move(first), std::move(second), sessions};
  }

  // The server saw `handshakes` sessions, each opened for the first domain and reused by the
  // second.
  static void expect_handshakes_shared(const SmtpTestServer& server,
                                       const smtp::SmtpSessionCounter& sessions, int handshakes) {
    EXPECT_EQ(server.connections_accepted(), handshakes);
    EXPECT_EQ(sessions.sessions(), static_cast<std::uint64_t>(handshakes));
    EXPECT_EQ(sessions.reused(), static_cast<std::uint64_t>(handshakes));
  }

  static const AddressReport& only_address(const DomainReport& r) {
    EXPECT_EQ(r.mx.size(), 1u);
    EXPECT_EQ(r.mx.at(0).addresses.size(), 1u);
    return r.mx.at(0).addresses.at(0);
  }

  FakeResolver resolver_;
  FakePolicyFetcher fetcher_{FakePolicyFetcher::served("")};
  // Wall-clock time that moves only when a test says so (the certificates are valid around now).
  class SettableClock final : public Clock {
   public:
    SystemTime now() const override { return now_; }
    void advance(std::chrono::minutes d) { now_ += d; }

   private:
    SystemTime now_ = std::chrono::system_clock::now();
  };

  smtp::TcpConnector connector_;
  SettableClock clock_;
  std::unique_ptr<testing::TestCert> ca_;
  std::unique_ptr<testing::TestCert> leaf_;
  std::shared_ptr<const tls::WebPkiVerifier> webpki_;
};

TEST_F(SharedObservationTest, TwoDomainsSharingAnMxCauseOneSession) {
  SmtpTestServer server(script());
  const auto [first, second, sessions] = probe_both_hosted(server);
  expect_handshakes_shared(server, *sessions, 1);
  for (const auto* r : {&first, &second}) {
    const auto& a = only_address(*r);
    EXPECT_TRUE(a.starttls_ok) << r->domain << ": " << a.failure;
    ASSERT_TRUE(a.leaf) << r->domain;
    EXPECT_EQ(a.leaf->subject, first.mx[0].addresses[0].leaf->subject);
    EXPECT_EQ(a.pkix_valid, std::optional<bool>(true)) << r->domain;
  }
}

// The WebPKI check of the shared chain for the shared MX host name is made once per
// observation, not once per domain; a domain with an MX host name of its own gets its own.
TEST_F(SharedObservationTest, DomainsSharingAnMxShareOneWebPkiVerification) {
  SmtpTestServer server(script());
  smtp::StarttlsObservationCache cache;
  for (int d = 1; d <= 3; ++d) {
    resolver_.set("more-" + std::to_string(d) + ".example", dns::RrType::kMx,
                  {dns::encode_mx(10, "mx.provider.example")});
  }
  for (const char* domain : {"hosted-1.example", "hosted-2.example", "more-1.example",
                             "more-2.example", "more-3.example"}) {
    const auto r = probe(domain, server, &cache);
    EXPECT_EQ(only_address(r).pkix_valid, std::optional<bool>(true)) << domain;
  }
  EXPECT_EQ(server.connections_accepted(), 1);
  EXPECT_EQ(webpki_->verifications(), 1u);
  const auto own = probe("own.example", server, &cache);
  EXPECT_EQ(only_address(own).pkix_valid, std::optional<bool>(false));
  EXPECT_EQ(webpki_->verifications(), 2u);
}

TEST_F(SharedObservationTest, DomainsProbedAtTheSameTimeWaitForOneSession) {
  SmtpTestServer server(script());
  smtp::StarttlsObservationCache cache;
  DomainReport a, b;
  {
    std::jthread t1([&] { a = probe("hosted-1.example", server, &cache); });
    std::jthread t2([&] { b = probe("hosted-2.example", server, &cache); });
  }
  EXPECT_EQ(server.connections_accepted(), 1);
  EXPECT_TRUE(only_address(a).starttls_ok);
  EXPECT_TRUE(only_address(b).starttls_ok);
}

TEST_F(SharedObservationTest, ADomainWithItsOwnSniNameDoesNotShare) {
  SmtpTestServer server(script());
  smtp::StarttlsObservationCache cache;
  const auto hosted = probe("hosted-1.example", server, &cache);
  EXPECT_EQ(server.last_sni(), "mx.provider.example");
  const auto own = probe("own.example", server, &cache);
  EXPECT_EQ(server.connections_accepted(), 2);
  EXPECT_EQ(server.last_sni(), "mail.own.example");
  // Same address, same certificate, but the name check is own.example's: the provider's
  // certificate does not name mail.own.example.
  EXPECT_TRUE(only_address(own).starttls_ok);
  EXPECT_EQ(only_address(own).pkix_valid, std::optional<bool>(false));
  EXPECT_EQ(only_address(hosted).pkix_valid, std::optional<bool>(true));
}

// A domain never gets the same observation twice: its next probe (here at once, as /probe
// after a scheduled one) observes anew, and the others share the newer observation.
TEST_F(SharedObservationTest, ADomainsNextProbeObservesAnew) {
  SmtpTestServer server(script());
  smtp::StarttlsObservationCache cache;
  probe("hosted-1.example", server, &cache);
  probe("hosted-1.example", server, &cache);
  EXPECT_EQ(server.connections_accepted(), 2);
  probe("hosted-2.example", server, &cache);
  EXPECT_EQ(server.connections_accepted(), 2);
}

TEST_F(SharedObservationTest, WithoutSharingEveryDomainOpensASession) {
  SmtpTestServer server(script());
  auto sessions = std::make_shared<smtp::SmtpSessionCounter>();
  smtp::StarttlsObservationCache cache(sessions);
  probe("hosted-1.example", server, &cache, std::chrono::milliseconds(0));
  probe("hosted-2.example", server, &cache, std::chrono::milliseconds(0));
  probe("hosted-1.example", server, nullptr);
  EXPECT_EQ(server.connections_accepted(), 3);
  EXPECT_EQ(sessions->sessions(), 2u);
  EXPECT_EQ(sessions->reused(), 0u);
}

// A session cut off by the deadline says nothing about the server: the next domain tries
// itself instead of inheriting a timeout.
TEST_F(SharedObservationTest, ACutOffObservationIsNotShared) {
  SmtpServerScript stalling;
  stalling.mode = SmtpServerMode::kStallBeforeBanner;
  SmtpTestServer server(stalling);
  smtp::StarttlsObservationCache cache;
  const auto first = probe("hosted-1.example", server, &cache, std::chrono::hours(1),
                           std::chrono::milliseconds(300));
  const auto second = probe("hosted-2.example", server, &cache, std::chrono::hours(1),
                            std::chrono::milliseconds(300));
  EXPECT_EQ(only_address(first).failure_kind, smtp::StarttlsFailure::kBannerTimeout);
  EXPECT_EQ(only_address(second).failure_kind, smtp::StarttlsFailure::kBannerTimeout);
  EXPECT_EQ(server.connections_accepted(), 2);
}


// The handshake limited to the other key type (T14) goes through the same cache and politeness
// gate as the first (issue 19): two domains sharing a DANE MX host of a dual-certificate server
// cause one unrestricted and one limited session, not two of each.
TEST_F(SharedObservationTest, TwoDomainsSharingADualKeyMxCauseOneLimitedHandshake) {
  const testing::TestCert rsa = testing::make_test_leaf(
      {.common_name = "mx.provider.example", .dns_names = {"mx.provider.example"},
       .key_type = testing::TestKeyType::kRsa2048, .serial = 7},
      *ca_);
  auto dual = script();
  dual.second_cert_chain_pem = rsa.pem() + ca_->pem();
  dual.second_key_pem = rsa.key_pem();
  SmtpTestServer server(dual);
  resolver_.set("_" + std::to_string(server.port()) + "._tcp.mx.provider.example", dns::RrType::kTlsa,
                {dns::encode_tlsa({3, 1, 1, std::vector<std::uint8_t>(32, 0xab)})});
  const auto [first, second, sessions] = probe_both_hosted(server);
  expect_handshakes_shared(server, *sessions, 2);
  for (const auto* r : {&first, &second}) {
    const auto& a = only_address(*r);
    EXPECT_EQ(a.key_type, "ecdsa") << r->domain;
    EXPECT_EQ(a.other_key_type_offer, "offered") << r->domain;
  }
}

// The answer of the handshake limited to the other key type (T14) is kept between probes
// (smtp.key_type_recheck_interval): a single-certificate DANE MX is asked once per interval, not
// at every probe, while the first handshake stays fresh at every probe.
class KeyTypeRecheckTest : public SharedObservationTest {
 protected:
  // hosted-1.example with a usable (non-matching) TLSA RRset, so the other key type is asked.
  void publish_tlsa(const SmtpTestServer& server) {
    resolver_.set("_" + std::to_string(server.port()) + "._tcp.mx.provider.example", dns::RrType::kTlsa,
                  {dns::encode_tlsa({3, 1, 1, std::vector<std::uint8_t>(32, 0xab)})});
  }
  // A probe without sharing between domains (each probe opens its own first session).
  DomainReport probe_keeping(const SmtpTestServer& server, smtp::KeyTypeAnswers& answers) {
    return probe("hosted-1.example", server, nullptr, std::chrono::milliseconds(0),
                 std::chrono::seconds(10), &answers);
  }
};

TEST_F(KeyTypeRecheckTest, ReusedWithinTheIntervalAndAskedAgainAfterIt) {
  SmtpTestServer server(script());
  publish_tlsa(server);
  smtp::KeyTypeAnswers answers(std::chrono::hours(1));
  const SystemTime asked = clock_.now();
  const auto first = probe_keeping(server, answers);
  EXPECT_EQ(server.connections_accepted(), 2);  // unrestricted, then limited to RSA
  EXPECT_EQ(only_address(first).other_key_type_offer, "not_offered");
  EXPECT_FALSE(only_address(first).other_key_type_checked_earlier);

  clock_.advance(std::chrono::minutes(59));
  const auto second = probe_keeping(server, answers);
  EXPECT_EQ(server.connections_accepted(), 3);  // only the unrestricted handshake
  EXPECT_EQ(only_address(second).other_key_type_offer, "not_offered");
  EXPECT_EQ(only_address(second).other_key_type_checked_earlier, std::optional<SystemTime>(asked));
  EXPECT_EQ(only_address(second).key_type, "ecdsa");

  clock_.advance(std::chrono::minutes(2));
  const auto third = probe_keeping(server, answers);
  EXPECT_EQ(server.connections_accepted(), 5);
  EXPECT_EQ(only_address(third).other_key_type_offer, "not_offered");
  EXPECT_FALSE(only_address(third).other_key_type_checked_earlier);
}

TEST_F(KeyTypeRecheckTest, AskedAgainAtOnceWhenTheFirstHandshakeShowsAnotherChain) {
  SmtpTestServer server(script());
  publish_tlsa(server);
  smtp::KeyTypeAnswers answers(std::chrono::hours(1));
  // An answer made beside another leaf than the server presents now (a renewed certificate).
  const testing::TestCert old_leaf = testing::make_test_leaf(
      {.common_name = "mx.provider.example", .dns_names = {"mx.provider.example"}, .serial = 9}, *ca_);
  smtp::StarttlsResult old_first;
  old_first.chain = tls::X509Chain::parse({old_leaf.der(), ca_->der()});
  smtp::StarttlsResult old_refusal;
  old_refusal.key_type_limit = tls::HandshakeKeyType::kRsa;
  old_refusal.failure = smtp::StarttlsFailure::kKeyTypeNotOffered;
  answers.keep({"127.0.0.1", server.port(), "mx.provider.example", "rsa"}, old_first, old_refusal,
               clock_.now());
  ASSERT_EQ(answers.size(), 1u);

  const auto r = probe_keeping(server, answers);
  EXPECT_EQ(server.connections_accepted(), 2);
  EXPECT_FALSE(only_address(r).other_key_type_checked_earlier);
  // Kept now beside the chain presented, and reused by the next probe.
  probe_keeping(server, answers);
  EXPECT_EQ(server.connections_accepted(), 3);
}

TEST_F(KeyTypeRecheckTest, AReloadStartsWithoutKeptAnswers) {
  SmtpTestServer server(script());
  publish_tlsa(server);
  smtp::KeyTypeAnswers before_reload(std::chrono::hours(1));
  probe_keeping(server, before_reload);
  EXPECT_EQ(server.connections_accepted(), 2);
  // A reload builds a new prober, and with it new answers (real_domain_prober.cc).
  smtp::KeyTypeAnswers after_reload(std::chrono::hours(1));
  const auto r = probe_keeping(server, after_reload);
  EXPECT_EQ(server.connections_accepted(), 4);
  EXPECT_FALSE(only_address(r).other_key_type_checked_earlier);
}

TEST_F(KeyTypeRecheckTest, IntervalZeroAsksAtEveryProbe) {
  SmtpTestServer server(script());
  publish_tlsa(server);
  smtp::KeyTypeAnswers answers(std::chrono::milliseconds(0));
  probe_keeping(server, answers);
  probe_keeping(server, answers);
  EXPECT_EQ(server.connections_accepted(), 4);
}

}  // namespace
}  // namespace mailtls::domain
