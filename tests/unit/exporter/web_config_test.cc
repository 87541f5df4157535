// --web.config.file: parsing errors, bcrypt, and TLS + basic auth through a real HTTPS client.

#include "exporter/config/web_config.h"

#include <gtest/gtest.h>
#include <unistd.h>
#include <httplib.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <openssl/ssl.h>

#include <thread>
#include <utility>
#include <vector>

#include "exporter/runtime/exporter.h"

namespace mailtls::exporter {
namespace {

// bcrypt of "secret" (cost 10), made with Python's crypt module (libxcrypt).
const char* kSecretHash = "$2b$10$PFaQ8hTTHFyxZcLXiCYPwuOdjYqmy39m/8eGTz0hi8EbFgCdWtk9W";

TEST(WebConfig, Bcrypt) {
  EXPECT_TRUE(bcrypt_matches("secret", kSecretHash));
  EXPECT_FALSE(bcrypt_matches("Secret", kSecretHash));
  EXPECT_FALSE(bcrypt_matches("", kSecretHash));
  EXPECT_FALSE(bcrypt_matches("secret", "plaintext"));
}

TEST(WebConfig, Errors) {
  auto r = load_web_config_text("basic_auth_users:\n  alice: hunter2\n", "web.yml");
  EXPECT_FALSE(r.config);
  EXPECT_EQ(r.error, "web.yml:2: basic_auth_users.alice: must be a bcrypt hash ($2y$...)");
  r = load_web_config_text("tls_server_config:\n  cert_file: /nonexistent.crt\n  key_file: /nonexistent.key\n", "web.yml");
  EXPECT_FALSE(r.config);
  EXPECT_NE(r.error.find("cannot load certificate /nonexistent.crt"), std::string::npos) << r.error;
  r = load_web_config_text("tls_server_config:\n  cert_file: a\n", "web.yml");
  EXPECT_EQ(r.error, "web.yml:2: tls_server_config: cert_file (or cert) and key_file (or key) are required");
  r = load_web_config_text("tls_config: {}\n", "web.yml");
  EXPECT_NE(r.error.find("web.yml:1: tls_config: unknown key"), std::string::npos) << r.error;
  r = load_web_config_text("", "web.yml");
  ASSERT_TRUE(r.config);
  EXPECT_FALSE(r.config->tls);
}

// Every key the exporter-toolkit format has that this server cannot honour, and every value
// it cannot take, is refused with file, line and key (before any file is read).
TEST(WebConfig, RefusesWhatItDoesNotHonour) {
  const std::string tls = "tls_server_config:\n  cert_file: a.crt\n  key_file: a.key\n";
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"rate_limit:\n  interval: 1s\n  burst: 5\n", "web.yml:1: rate_limit: not supported"},
      {"http_server_config:\n  http2: true\n",
       "web.yml:2: http_server_config.http2: not supported: this server speaks HTTP/1.1 only (set false or "
       "remove it)"},
      {"http_server_config:\n  mystery: 1\n", "web.yml:2: http_server_config.mystery: unknown key"},
      {"http_server_config:\n  headers:\n    Server: x\n",
       "web.yml:3: http_server_config.headers.Server: not supported (Content-Security-Policy, X-Frame-Options, "
       "X-Content-Type-Options, X-XSS-Protection, Strict-Transport-Security)"},
      {"http_server_config:\n  headers:\n    X-Frame-Options: allow-from x\n",
       "web.yml:3: http_server_config.headers.X-Frame-Options: deny or sameorigin"},
      {"http_server_config:\n  headers:\n    X-Content-Type-Options: sniff\n",
       "web.yml:3: http_server_config.headers.X-Content-Type-Options: nosniff"},
      {tls + "  cipher_suites:\n    - TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256\n    - TLS_AES_128_GCM_SHA256\n",
       "web.yml:6: tls_server_config.cipher_suites: TLS_AES_128_GCM_SHA256 is a TLS 1.3 suite; TLS 1.3 suites "
       "are not configurable (as in Go): all three are always offered with TLS 1.3; list only TLS 1.2 suites"},
      {tls + "  cipher_suites: [TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA256]\n",
       "web.yml:4: tls_server_config.cipher_suites: TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA256 is insecure and not "
       "supported"},
      {tls + "  cipher_suites: [ECDHE-RSA-AES128-GCM-SHA256]\n",
       "web.yml:4: tls_server_config.cipher_suites: unknown cipher suite ECDHE-RSA-AES128-GCM-SHA256 (Go's "
       "names, e.g. TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256)"},
      {tls + "  curve_preferences: [X25519MLKEM768]\n",
       "web.yml:4: tls_server_config.curve_preferences: X25519MLKEM768 is not supported by this OpenSSL"},
      {tls + "  curve_preferences: [P-256]\n",
       "web.yml:4: tls_server_config.curve_preferences: unknown curve P-256 (one of CurveP256, CurveP384, "
       "CurveP521, X25519)"},
      {tls + "  min_version: TLS14\n", "web.yml:4: tls_server_config.min_version: one of TLS10, TLS11, TLS12, TLS13"},
      {tls + "  min_version: TLS13\n  max_version: TLS12\n",
       "web.yml:2: tls_server_config: min_version is above max_version"},
      {tls + "  prefer_server_cipher_suites: sometimes\n",
       "web.yml:4: tls_server_config.prefer_server_cipher_suites: must be true or false"},
      {tls + "  client_auth_type: RequireClientCert\n",
       "web.yml:4: tls_server_config.client_auth_type: one of NoClientCert, RequestClientCert, "
       "RequireAnyClientCert, VerifyClientCertIfGiven, RequireAndVerifyClientCert"},
      {tls + "  client_auth_type: VerifyClientCertIfGiven\n",
       "web.yml:2: tls_server_config: client_auth_type VerifyClientCertIfGiven needs client_ca_file (or "
       "client_ca)"},
      {tls + "  client_ca_file: ca.crt\n",
       "web.yml:2: tls_server_config: client_ca_file (or client_ca) without client_auth_type: say which client "
       "certificates to ask for"},
      {tls + "  client_auth_type: RequestClientCert\n  client_allowed_sans: [a]\n",
       "web.yml:2: tls_server_config: client_allowed_sans needs client_auth_type RequireAnyClientCert or "
       "RequireAndVerifyClientCert"},
      {tls + "  cert: inline\n", "web.yml:2: tls_server_config: give cert_file or cert, not both"},
      {tls + "  client_cas: x\n", "web.yml:4: tls_server_config.client_cas: unknown key"},
  };
  for (const auto& [text, want] : cases) {
    const auto r = load_web_config_text(text, "web.yml");
    EXPECT_FALSE(r.config) << text;
    EXPECT_EQ(r.error, want) << text;
  }
}

TEST(WebConfig, NothingToHonourIsPlainHttp) {
  for (const char* text : {"tls_server_config:\n", "tls_server_config: {}\nhttp_server_config:\n  http2: false\n"}) {
    const auto r = load_web_config_text(text, "web.yml");
    ASSERT_TRUE(r.config) << r.error;
    EXPECT_FALSE(r.config->tls);
    EXPECT_TRUE(r.config->response_headers.empty());
  }
}

class SecuredExporter : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = std::filesystem::path(::testing::TempDir()) / ("web_config_test_" + std::to_string(getpid()));
    std::filesystem::remove_all(dir_);
    std::filesystem::create_directories(dir_);
    const std::string d = dir_.string();
    const std::string cmd =
        "cd " + d + " && "
        "openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 "
        "-subj /CN=test-ca -keyout ca.key -out ca.crt 2>/dev/null && "
        "openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj /CN=localhost "
        "-keyout server.key -out server.csr 2>/dev/null && "
        "printf 'subjectAltName=DNS:localhost,IP:127.0.0.1\\n' > san.ext && "
        "openssl x509 -req -in server.csr -CA ca.crt -CAkey ca.key -CAcreateserial -days 2 "
        "-extfile san.ext -out server.crt 2>/dev/null && "
        "openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj /CN=prometheus "
        "-keyout client.key -out client.csr 2>/dev/null && "
        "openssl x509 -req -in client.csr -CA ca.crt -CAkey ca.key -CAcreateserial -days 2 "
        "-out client.crt 2>/dev/null";
    ASSERT_EQ(std::system(cmd.c_str()), 0) << "openssl failed";
  }

  void start(const std::string& web_yaml) {
    auto wc = load_web_config_text(web_yaml, (dir_ / "web.yml").string());
    ASSERT_TRUE(wc.config) << wc.error;
    Flags flags;
    flags.listen_address = "127.0.0.1:0";
    flags.storage_path = (dir_ / "state").string();  // locked by the exporter: one per test
    exporter_ = std::make_unique<Exporter>(flags, Config{}, *wc.config);
    std::string error;
    ASSERT_TRUE(exporter_->start(&error)) << error;
    server_ = std::thread([this] { exporter_->serve(); });
  }
  void TearDown() override {
    if (exporter_) exporter_->shutdown();
    if (server_.joinable()) server_.join();
  }
  std::unique_ptr<httplib::SSLClient> client() {
    auto c = std::make_unique<httplib::SSLClient>("127.0.0.1", exporter_->port());
    c->set_ca_cert_path((dir_ / "ca.crt").c_str());
    c->enable_server_certificate_verification(true);
    c->set_connection_timeout(5);
    c->set_read_timeout(10);
    return c;
  }

  static inline std::filesystem::path dir_;
  std::unique_ptr<Exporter> exporter_;
  std::thread server_;
};

// Every key that is honoured lands in the config the server uses, in OpenSSL's terms.
TEST_F(SecuredExporter, ParsesEveryKey) {
  const auto r = load_web_config_text(
      "tls_server_config:\n  cert_file: server.crt\n  key_file: server.key\n"
      "  client_auth_type: RequireAnyClientCert\n  client_ca_file: ca.crt\n"
      "  client_allowed_sans: [prometheus.test, 10.0.0.1]\n  min_version: TLS12\n  max_version: TLS12\n"
      "  cipher_suites: [TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384, TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256]\n"
      "  prefer_server_cipher_suites: false\n  curve_preferences: [X25519, CurveP256]\n"
      "http_server_config:\n  http2: false\n  headers:\n    X-Frame-Options: sameorigin\n"
      "    Content-Security-Policy: \"\"\n",
      (dir_ / "web.yml").string());
  ASSERT_TRUE(r.config) << r.error;
  ASSERT_TRUE(r.config->tls);
  const WebTlsConfig& t = *r.config->tls;
  EXPECT_EQ(t.cert_file, (dir_ / "server.crt").string());
  EXPECT_EQ(t.client_ca_file, (dir_ / "ca.crt").string());
  EXPECT_EQ(t.client_auth, ClientAuthType::kRequireAnyClientCert);
  EXPECT_EQ(t.client_allowed_sans, (std::vector<std::string>{"prometheus.test", "10.0.0.1"}));
  EXPECT_EQ(t.min_version, TLS1_2_VERSION);
  EXPECT_EQ(t.max_version, TLS1_2_VERSION);
  EXPECT_EQ(t.cipher_list, "ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-ECDSA-CHACHA20-POLY1305");
  EXPECT_FALSE(t.prefer_server_cipher_suites);
  EXPECT_EQ(t.groups_list, "X25519:P-256");
  // A blank header is not sent, as in exporter-toolkit.
  EXPECT_EQ(r.config->response_headers,
            (std::vector<std::pair<std::string, std::string>>{{"X-Frame-Options", "sameorigin"}}));
}

TEST_F(SecuredExporter, InlinePemIsLoadedAndChecked) {
  auto indented = [](const std::filesystem::path& p) {
    std::ifstream in(p);
    std::string line, out;
    while (std::getline(in, line)) out += "    " + line + "\n";
    return out;
  };
  auto r = load_web_config_text("tls_server_config:\n  cert: |\n" + indented(dir_ / "server.crt") +
                                    "  key: |\n" + indented(dir_ / "server.key") + "",
                                "web.yml");
  ASSERT_TRUE(r.config) << r.error;
  EXPECT_TRUE(r.config->tls->cert_file.empty());
  EXPECT_NE(r.config->tls->cert_pem.find("BEGIN CERTIFICATE"), std::string::npos);
  // A key of another certificate: refused at load, as for files.
  r = load_web_config_text("tls_server_config:\n  cert: |\n" + indented(dir_ / "server.crt") +
                               "  key: |\n" + indented(dir_ / "client.key"),
                           "web.yml");
  ASSERT_FALSE(r.config);
  EXPECT_NE(r.error.find("web.yml:2: tls_server_config: private key tls_server_config.key does not match "
                         "certificate tls_server_config.cert"),
            std::string::npos)
      << r.error;
}

TEST_F(SecuredExporter, TlsAndBasicAuth) {
  start(std::string("tls_server_config:\n  cert_file: server.crt\n  key_file: server.key\n"
                    "basic_auth_users:\n  prometheus: ") + kSecretHash + "\n");
  auto c = client();
  auto none = c->Get("/metrics");
  ASSERT_TRUE(none) << httplib::to_string(none.error());
  EXPECT_EQ(none->status, 401);
  EXPECT_EQ(none->get_header_value("WWW-Authenticate"), "Basic realm=\"mailtls_exporter\"");
  c->set_basic_auth("prometheus", "wrong");
  EXPECT_EQ(c->Get("/metrics")->status, 401);
  c->set_basic_auth("nobody", "secret");
  EXPECT_EQ(c->Get("/metrics")->status, 401);
  c->set_basic_auth("prometheus", "secret");
  auto ok = c->Get("/metrics");
  ASSERT_TRUE(ok);
  EXPECT_EQ(ok->status, 200);
  EXPECT_NE(ok->body.find("mailtls_build_info"), std::string::npos);
  EXPECT_EQ(c->Get("/metrics")->status, 200);  // the cached path

  // Plain HTTP to the TLS port gets no answer.
  httplib::Client plain("127.0.0.1", exporter_->port());
  plain.set_read_timeout(3);
  auto p = plain.Get("/metrics");
  EXPECT_TRUE(!p || p->status != 200);
}

TEST_F(SecuredExporter, ClientCertificateRequired) {
  start("tls_server_config:\n  cert_file: server.crt\n  key_file: server.key\n"
        "  client_auth_type: RequireAndVerifyClientCert\n  client_ca_file: ca.crt\n"
        "  min_version: TLS13\n");
  auto without = client()->Get("/-/healthy");
  EXPECT_FALSE(without && without->status == 200);
  httplib::SSLClient with("127.0.0.1", exporter_->port(), (dir_ / "client.crt").string(),
                          (dir_ / "client.key").string());
  with.set_ca_cert_path((dir_ / "ca.crt").c_str());
  with.enable_server_certificate_verification(true);
  auto r = with.Get("/-/healthy");
  ASSERT_TRUE(r) << httplib::to_string(r.error());
  EXPECT_EQ(r->status, 200);
}

}  // namespace
}  // namespace mailtls::exporter
