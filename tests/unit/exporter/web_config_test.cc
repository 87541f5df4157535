// --web.config.file: parsing errors, bcrypt, and TLS + basic auth through a real HTTPS client.

#include "exporter/config/web_config.h"

#include <gtest/gtest.h>
#include <unistd.h>
#include <httplib.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <thread>

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
  EXPECT_NE(r.error.find("cert_file and key_file are required"), std::string::npos) << r.error;
  r = load_web_config_text("tls_config: {}\n", "web.yml");
  EXPECT_NE(r.error.find("web.yml:1: tls_config: unknown key"), std::string::npos) << r.error;
  r = load_web_config_text("", "web.yml");
  ASSERT_TRUE(r.config);
  EXPECT_FALSE(r.config->tls);
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
