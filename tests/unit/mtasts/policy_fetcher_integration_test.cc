// CurlPolicyFetcher against an in-process HTTPS server (cpp-httplib) on 127.0.0.1 with
// certificates made in the test: the docs/verdicts.md P4 / B13 vectors. The FakeResolver maps
// mta-sts.example.com to 127.0.0.1; the server listens on an ephemeral port, so the URL carries
// the port (PolicyFetcherSettings::port).
#include "probes/mtasts/policy_fetcher.h"

#include <gtest/gtest.h>
#include <httplib.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <filesystem>
#include <memory>
#include <string>
#include <thread>

#include "probes/dns/records.h"
#include "tests/fakes/fake_resolver.h"
#include "tests/fakes/test_certs.h"

namespace mailtls::mtasts {
namespace {

using std::chrono::hours;
using std::chrono::seconds;
using testing::TestCertSpec;

constexpr const char* kPolicy =
    "version: STSv1\nmode: enforce\nmx: mx1.example.com\nmax_age: 604800\n";
constexpr const char* kPath = "/.well-known/mta-sts.txt";

// An HTTPS server on 127.0.0.1:<ephemeral> presenting `leaf`, with routes set before start().
class PolicyServer {
 public:
  explicit PolicyServer(const testing::TestCert& leaf)
      : server_(std::make_unique<httplib::SSLServer>(leaf.cert.get(), leaf.key.get())) {}
  ~PolicyServer() { stop(); }

  httplib::SSLServer& http() { return *server_; }

  int start() {
    port_ = server_->bind_to_any_port("127.0.0.1");
    thread_ = std::thread([this] { server_->listen_after_bind(); });
    for (int i = 0; i < 500 && !server_->is_running(); ++i) {
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    return port_;
  }
  void stop() {
    stopping_ = true;
    if (thread_.joinable()) {
      server_->stop();
      thread_.join();
    }
  }
  const std::atomic<bool>& stopping() const { return stopping_; }

 private:
  std::unique_ptr<httplib::SSLServer> server_;
  std::thread thread_;
  int port_ = 0;
  std::atomic<bool> stopping_{false};
};

class PolicyFetcherTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    ca_ = new testing::TestCert(testing::make_test_ca("MTA-STS Test Root"));
    other_ca_ = new testing::TestCert(testing::make_test_ca("Untrusted Root"));
    ca_file_ = new std::string((std::filesystem::temp_directory_path() /
                                ("mtasts_test_ca_" + std::to_string(getpid()) + ".pem"))
                                   .string());
    testing::write_text_file(*ca_file_, ca_->pem());
  }
  static void TearDownTestSuite() {
    std::filesystem::remove(*ca_file_);
    delete ca_file_;
    delete ca_;
    delete other_ca_;
  }

  void SetUp() override {
    resolver_.set("mta-sts.example.com", dns::RrType::kA, {dns::encode_address("127.0.0.1")});
  }

  static testing::TestCert leaf(std::vector<std::string> names, const testing::TestCert& issuer,
                                seconds not_after = hours(24 * 30),
                                seconds not_before = -hours(24)) {
    TestCertSpec spec;
    spec.common_name = names.empty() ? "none" : names.front();
    spec.dns_names = std::move(names);
    spec.not_after_offset = not_after;
    spec.not_before_offset = not_before;
    spec.serial = ++serial_;
    return testing::make_test_leaf(spec, issuer);
  }

  std::unique_ptr<CurlPolicyFetcher> fetcher(int port, PolicyFetcherSettings settings = {}) {
    settings.port = port;
    settings.extra_ca_files = {*ca_file_};
    settings.connect_special_addresses = true;  // the test servers are on loopback
    auto created = CurlPolicyFetcher::create(resolver_, settings);
    EXPECT_TRUE(created.fetcher) << created.error;
    return std::move(created.fetcher);
  }

  static void serve_policy(PolicyServer& server, std::string body,
                           std::string type = "text/plain; charset=utf-8") {
    server.http().Get(kPath, [body, type](const httplib::Request&, httplib::Response& res) {
      res.set_content(body, type.c_str());
    });
  }

  static inline testing::TestCert* ca_ = nullptr;
  static inline testing::TestCert* other_ca_ = nullptr;
  static inline std::string* ca_file_ = nullptr;
  static inline long serial_ = 100;
  testing::FakeResolver resolver_;
};

TEST_F(PolicyFetcherTest, GoodPolicyIsFetchedWithHashAndCertificateExpiry) {
  const auto cert = leaf({"mta-sts.example.com"}, *ca_, hours(24 * 30));
  PolicyServer server(cert);
  serve_policy(server, kPolicy);
  const int port = server.start();
  const auto r = fetcher(port)->fetch("example.com", Deadline::after(seconds(10)));
  ASSERT_TRUE(r.ok) << r.message;
  EXPECT_EQ(r.failure, PolicyFetchFailure::kNone);
  EXPECT_EQ(r.result_type, "");
  EXPECT_EQ(r.url, "https://mta-sts.example.com:" + std::to_string(port) + kPath);
  EXPECT_EQ(r.http_status, 200);
  EXPECT_EQ(r.body, kPolicy);
  EXPECT_EQ(r.content_type, "text/plain; charset=utf-8");
  EXPECT_EQ(r.connected_address, "127.0.0.1");
  EXPECT_EQ(r.addresses, std::vector<std::string>{"127.0.0.1"});
  // sha256 of kPolicy, computed with `printf '...' | sha256sum`.
  EXPECT_EQ(r.body_sha256, "35dd6b2383572833a108a2445030cda383bca70273e273b575086064f3a99746");
  ASSERT_TRUE(r.cert_not_after);
  const auto expected = std::chrono::system_clock::now() + hours(24 * 30);
  EXPECT_LT(std::chrono::abs(*r.cert_not_after - expected), std::chrono::minutes(5));
}

TEST_F(PolicyFetcherTest, WildcardCertificateIsAccepted) {
  PolicyServer server(leaf({"*.example.com"}, *ca_));
  serve_policy(server, kPolicy, "text/plain");
  const auto r = fetcher(server.start())->fetch("example.com", Deadline::after(seconds(10)));
  EXPECT_TRUE(r.ok) << r.message;
}

// Both families are pinned; the server listens on 127.0.0.1 only, so ::1 is refused (or absent)
// and libcurl falls back to the IPv4 address, as it would for a real dual-stack host.
TEST_F(PolicyFetcherTest, EveryResolvedAddressIsPinned) {
  resolver_.set("mta-sts.example.com", dns::RrType::kAaaa, {dns::encode_address("::1")});
  PolicyServer server(leaf({"mta-sts.example.com"}, *ca_));
  serve_policy(server, kPolicy);
  const auto r = fetcher(server.start())->fetch("example.com", Deadline::after(seconds(10)));
  ASSERT_TRUE(r.ok) << r.message;
  EXPECT_EQ(r.addresses, (std::vector<std::string>{"127.0.0.1", "::1"}));
  EXPECT_EQ(r.connected_address, "127.0.0.1");
}

// One fetcher, used by several probes at once.
TEST_F(PolicyFetcherTest, ConcurrentFetchesShareOneFetcher) {
  PolicyServer server(leaf({"mta-sts.example.com"}, *ca_));
  serve_policy(server, kPolicy);
  auto f = fetcher(server.start());
  std::atomic<int> ok{0};
  std::vector<std::thread> threads;
  for (int i = 0; i < 6; ++i) {
    threads.emplace_back([&] {
      if (f->fetch("example.com", Deadline::after(seconds(20))).ok) ++ok;
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(ok, 6);
}

TEST_F(PolicyFetcherTest, RedirectIsNotFollowedAndNamesTheLocation) {
  PolicyServer server(leaf({"mta-sts.example.com"}, *ca_));
  server.http().Get(kPath, [](const httplib::Request&, httplib::Response& res) {
    res.status = 301;
    res.set_header("Location", "https://www.example.com/.well-known/mta-sts.txt");
  });
  const auto r = fetcher(server.start())->fetch("example.com", Deadline::after(seconds(10)));
  EXPECT_FALSE(r.ok);
  EXPECT_EQ(r.failure, PolicyFetchFailure::kRedirect);
  EXPECT_EQ(r.result_type, "sts-policy-fetch-error");
  EXPECT_EQ(r.http_status, 301);
  EXPECT_EQ(r.location, "https://www.example.com/.well-known/mta-sts.txt");
  EXPECT_NE(r.message.find("www.example.com"), std::string::npos) << r.message;
}

TEST_F(PolicyFetcherTest, HtmlContentTypeIsPolicyInvalid) {
  PolicyServer server(leaf({"mta-sts.example.com"}, *ca_));
  serve_policy(server, "<html><body>Welcome</body></html>", "text/html; charset=utf-8");
  const auto r = fetcher(server.start())->fetch("example.com", Deadline::after(seconds(10)));
  EXPECT_FALSE(r.ok);
  EXPECT_EQ(r.failure, PolicyFetchFailure::kContentType);
  EXPECT_EQ(r.result_type, "sts-policy-invalid");
  EXPECT_EQ(r.content_type, "text/html; charset=utf-8");
}

TEST_F(PolicyFetcherTest, BodyOver64KiBIsTooLarge) {
  PolicyServer server(leaf({"mta-sts.example.com"}, *ca_));
  serve_policy(server, std::string(70000, 'x'), "text/plain");
  const auto r = fetcher(server.start())->fetch("example.com", Deadline::after(seconds(10)));
  EXPECT_FALSE(r.ok);
  EXPECT_EQ(r.failure, PolicyFetchFailure::kTooLarge);
  EXPECT_EQ(r.result_type, "sts-policy-fetch-error");
  EXPECT_LE(r.body.size(), 64u * 1024);
}

// Without Content-Length the cap is enforced while the body arrives.
TEST_F(PolicyFetcherTest, ChunkedBodyOver64KiBIsTooLarge) {
  PolicyServer server(leaf({"mta-sts.example.com"}, *ca_));
  server.http().Get(kPath, [](const httplib::Request&, httplib::Response& res) {
    res.set_chunked_content_provider("text/plain", [](size_t offset, httplib::DataSink& sink) {
      if (offset >= 70000) {
        sink.done();
        return true;
      }
      const std::string chunk(1000, 'x');
      return sink.write(chunk.data(), chunk.size());
    });
  });
  const auto r = fetcher(server.start())->fetch("example.com", Deadline::after(seconds(10)));
  EXPECT_EQ(r.failure, PolicyFetchFailure::kTooLarge) << r.message;
  EXPECT_LE(r.body.size(), 64u * 1024);
}

TEST_F(PolicyFetcherTest, NotFoundIsHttpStatusError) {
  PolicyServer server(leaf({"mta-sts.example.com"}, *ca_));
  const auto r = fetcher(server.start())->fetch("example.com", Deadline::after(seconds(10)));
  EXPECT_FALSE(r.ok);
  EXPECT_EQ(r.failure, PolicyFetchFailure::kHttpStatus);
  EXPECT_EQ(r.http_status, 404);
  EXPECT_EQ(r.result_type, "sts-policy-fetch-error");
}

// P4: a certificate for example.com only; P12: the provider's certificate.
TEST_F(PolicyFetcherTest, CertificateForTheWrongNameIsWebPkiInvalid) {
  for (const char* name : {"example.com", "mta-sts.provider.example"}) {
    PolicyServer server(leaf({name}, *ca_));
    serve_policy(server, kPolicy);
    const auto r = fetcher(server.start())->fetch("example.com", Deadline::after(seconds(10)));
    EXPECT_FALSE(r.ok) << name;
    EXPECT_EQ(r.failure, PolicyFetchFailure::kTlsWebPki) << name << ": " << r.message;
    EXPECT_EQ(r.result_type, "sts-webpki-invalid");
    EXPECT_TRUE(r.cert_not_after) << "the certificate was presented, its expiry is known";
  }
}

TEST_F(PolicyFetcherTest, ExpiredCertificateIsWebPkiInvalidAndItsExpiryIsKnown) {
  PolicyServer server(leaf({"mta-sts.example.com"}, *ca_, -hours(2), -hours(24 * 90)));
  serve_policy(server, kPolicy);
  const auto r = fetcher(server.start())->fetch("example.com", Deadline::after(seconds(10)));
  EXPECT_FALSE(r.ok);
  EXPECT_EQ(r.failure, PolicyFetchFailure::kTlsWebPki) << r.message;
  EXPECT_EQ(r.result_type, "sts-webpki-invalid");
  EXPECT_NE(r.message.find("expired"), std::string::npos) << r.message;
  ASSERT_TRUE(r.cert_not_after);
  EXPECT_LT(*r.cert_not_after, std::chrono::system_clock::now());
}

TEST_F(PolicyFetcherTest, UntrustedCaIsWebPkiInvalid) {
  PolicyServer server(leaf({"mta-sts.example.com"}, *other_ca_));
  serve_policy(server, kPolicy);
  const auto r = fetcher(server.start())->fetch("example.com", Deadline::after(seconds(10)));
  EXPECT_FALSE(r.ok);
  EXPECT_EQ(r.failure, PolicyFetchFailure::kTlsWebPki) << r.message;
  EXPECT_EQ(r.result_type, "sts-webpki-invalid");
  EXPECT_TRUE(r.cert_not_after);
}

// A server that sends one byte a second: the fetch ends at the deadline, not when the server does.
TEST_F(PolicyFetcherTest, DripFeedingServerEndsAtTheDeadline) {
  PolicyServer server(leaf({"mta-sts.example.com"}, *ca_));
  const auto& stopping = server.stopping();
  server.http().Get(kPath, [&stopping](const httplib::Request&, httplib::Response& res) {
    res.set_chunked_content_provider("text/plain", [&stopping](size_t offset, httplib::DataSink& sink) {
      if (stopping || offset > 120) return false;
      std::this_thread::sleep_for(seconds(1));
      return sink.write("v", 1);
    });
  });
  const int port = server.start();
  const auto started = std::chrono::steady_clock::now();
  const auto r = fetcher(port)->fetch("example.com", Deadline::after(seconds(2)));
  const auto took = std::chrono::steady_clock::now() - started;
  EXPECT_FALSE(r.ok);
  EXPECT_EQ(r.failure, PolicyFetchFailure::kTimeout) << r.message;
  EXPECT_EQ(r.result_type, "sts-policy-fetch-error");
  EXPECT_LT(took, seconds(10)) << "did not hang";
}

// The low-speed limit ends a drip-feed long before a generous deadline.
TEST_F(PolicyFetcherTest, LowSpeedLimitEndsADripFeedBeforeTheDeadline) {
  PolicyServer server(leaf({"mta-sts.example.com"}, *ca_));
  const auto& stopping = server.stopping();
  server.http().Get(kPath, [&stopping](const httplib::Request&, httplib::Response& res) {
    res.set_chunked_content_provider("text/plain", [&stopping](size_t offset, httplib::DataSink& sink) {
      if (stopping || offset > 120) return false;
      std::this_thread::sleep_for(seconds(1));
      return sink.write("v", 1);
    });
  });
  PolicyFetcherSettings settings;
  settings.low_speed_time = seconds(2);
  const int port = server.start();
  const auto started = std::chrono::steady_clock::now();
  const auto r = fetcher(port, settings)->fetch("example.com", Deadline::after(seconds(60)));
  const auto took = std::chrono::steady_clock::now() - started;
  EXPECT_EQ(r.failure, PolicyFetchFailure::kTimeout) << r.message;
  EXPECT_LT(took, seconds(30)) << "the low-speed limit, not the 60 s deadline, ended it";
}

TEST_F(PolicyFetcherTest, NoAddressForThePolicyHostIsADnsFetchError) {
  testing::FakeResolver empty;  // mta-sts.example.com: NXDOMAIN
  PolicyFetcherSettings settings;
  settings.port = 443;
  auto created = CurlPolicyFetcher::create(empty, settings);
  ASSERT_TRUE(created.fetcher) << created.error;
  const auto r = created.fetcher->fetch("example.com", Deadline::after(seconds(5)));
  EXPECT_FALSE(r.ok);
  EXPECT_EQ(r.failure, PolicyFetchFailure::kDns);
  EXPECT_EQ(r.result_type, "sts-policy-fetch-error");
  EXPECT_EQ(r.url, "https://mta-sts.example.com/.well-known/mta-sts.txt");
  EXPECT_NE(r.message.find("no A or AAAA"), std::string::npos) << r.message;
}

TEST_F(PolicyFetcherTest, FailedAddressLookupIsADnsFetchError) {
  testing::FakeResolver failing;
  failing.fail("mta-sts.example.com", dns::RrType::kA, dns::Security::kIndeterminate, "timeout");
  failing.set("mta-sts.example.com", dns::RrType::kAaaa, {dns::encode_address("::1")},
              dns::Security::kBogus);
  auto created = CurlPolicyFetcher::create(failing, {});
  ASSERT_TRUE(created.fetcher);
  const auto r = created.fetcher->fetch("example.com", Deadline::after(seconds(5)));
  EXPECT_EQ(r.failure, PolicyFetchFailure::kDns);
  EXPECT_TRUE(r.addresses.empty()) << "a bogus answer is never used";
  EXPECT_NE(r.message.find("lookup failed"), std::string::npos) << r.message;
}

TEST_F(PolicyFetcherTest, RefusedConnectionIsAConnectError) {
  int port = 0;
  {
    PolicyServer probe_port(leaf({"mta-sts.example.com"}, *ca_));
    port = probe_port.start();
  }  // stopped: nothing listens there now
  const auto r = fetcher(port)->fetch("example.com", Deadline::after(seconds(5)));
  EXPECT_EQ(r.failure, PolicyFetchFailure::kConnect) << r.message;
  EXPECT_EQ(r.result_type, "sts-policy-fetch-error");
}

TEST_F(PolicyFetcherTest, BadInputsAreRefused) {
  EXPECT_FALSE(CurlPolicyFetcher::create(resolver_, {.extra_ca_files = {"/nonexistent.pem"}}).fetcher);
  auto created = CurlPolicyFetcher::create(resolver_, {});
  ASSERT_TRUE(created.fetcher);
  const auto r = created.fetcher->fetch("exa mple.com:1/x", Deadline::after(seconds(5)));
  EXPECT_EQ(r.failure, PolicyFetchFailure::kInvalid);
  EXPECT_EQ(resolver_.lookups(), 0);
}

TEST(PolicyContentType, OnlyTextPlainWithUtf8OrAsciiOrNoCharset) {
  EXPECT_TRUE(acceptable_policy_content_type("text/plain"));
  EXPECT_TRUE(acceptable_policy_content_type("Text/Plain; charset=UTF-8"));
  EXPECT_TRUE(acceptable_policy_content_type("text/plain;charset=\"us-ascii\""));
  EXPECT_TRUE(acceptable_policy_content_type("text/plain; format=flowed"));
  EXPECT_FALSE(acceptable_policy_content_type("text/plain; charset=iso-8859-1"));
  EXPECT_FALSE(acceptable_policy_content_type("text/html"));
  EXPECT_FALSE(acceptable_policy_content_type(""));
  EXPECT_FALSE(acceptable_policy_content_type("application/octet-stream"));
}

TEST(PolicyFetchFailureLabels, ResultTypesFollowRfc8460) {
  EXPECT_EQ(rfc8460_result_type(PolicyFetchFailure::kTls), "sts-webpki-invalid");
  EXPECT_EQ(rfc8460_result_type(PolicyFetchFailure::kTimeout), "sts-policy-fetch-error");
  EXPECT_EQ(to_string(PolicyFetchFailure::kTooLarge), "too_large");
}

}  // namespace
}  // namespace mailtls::mtasts
