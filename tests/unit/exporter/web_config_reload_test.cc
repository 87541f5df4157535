// Reload re-reads --web.config.file (review finding 9): a changed password and a new
// certificate take effect; a broken file keeps the running one and the reload counts as failed.

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <httplib.h>
#include <netinet/in.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <thread>

#include "exporter/runtime/exporter.h"

namespace mailtls::exporter {
namespace {

const char* kSecretHash = "$2b$10$PFaQ8hTTHFyxZcLXiCYPwuOdjYqmy39m/8eGTz0hi8EbFgCdWtk9W";   // "secret"
const char* kHunter2Hash = "$2b$04$yebzlSsdOzHKkCbbpYeWC.wxut/H9C2NezZ9Mpdx/2PchunZRWqI6";  // "hunter2"

// The common name of the certificate a TLS server on loopback `port` presents; "" on failure.
std::string served_certificate_cn(int port) {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(port));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  timeval tv{10, 0};
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  std::string cn;
  if (connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0) {
    SSL_CTX* ctx = SSL_CTX_new(TLS_client_method());
    SSL* ssl = SSL_new(ctx);
    SSL_set_fd(ssl, fd);
    if (SSL_connect(ssl) == 1) {
      if (X509* cert = SSL_get1_peer_certificate(ssl)) {
        char name[256] = {};
        X509_NAME_get_text_by_NID(X509_get_subject_name(cert), NID_commonName, name, sizeof name);
        cn = name;
        X509_free(cert);
      }
    }
    SSL_free(ssl);
    SSL_CTX_free(ctx);
  }
  close(fd);
  return cn;
}

class WebConfigReload : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = std::filesystem::path(::testing::TempDir()) / ("web_config_reload_test_" + std::to_string(getpid()));
    std::filesystem::remove_all(dir_);
    std::filesystem::create_directories(dir_);
    std::string cmd = "cd " + dir_.string() +
                      " && openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 "
                      "-subj /CN=test-ca -keyout ca.key -out ca.crt 2>/dev/null"
                      " && printf 'subjectAltName=DNS:localhost,IP:127.0.0.1\\n' > san.ext";
    for (const char* name : {"first", "second"}) {
      cmd += std::string(" && openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj /CN=") + name +
             " -keyout " + name + ".key -out " + name + ".csr 2>/dev/null"
             " && openssl x509 -req -in " + name + ".csr -CA ca.crt -CAkey ca.key -CAcreateserial -days 2"
             " -extfile san.ext -out " + name + ".crt 2>/dev/null";
    }
    ASSERT_EQ(std::system(cmd.c_str()), 0) << "openssl failed";
  }

  void SetUp() override {
    write("config.yml", "domains: []\n");
    write_web("first", kSecretHash);
    Flags flags;
    flags.listen_address = "127.0.0.1:0";
    flags.config_file = (dir_ / "config.yml").string();
    flags.web_config_file = (dir_ / "web.yml").string();
    // A directory of this process's own: the default ("data" in the working directory) is
    // locked by whichever test of another process (ctest -j) runs there at the same time.
    flags.storage_path = (dir_ / "state").string();
    auto loaded = load_config_file(flags.config_file);
    ASSERT_TRUE(loaded) << loaded.error();
    auto wc = load_web_config_file(flags.web_config_file);
    ASSERT_TRUE(wc.config) << wc.error;
    exporter_ = std::make_unique<Exporter>(flags, *loaded, *wc.config);
    std::string error;
    ASSERT_TRUE(exporter_->start(&error)) << error;
    server_ = std::thread([this] { exporter_->serve(); });
  }
  void TearDown() override {
    if (exporter_) exporter_->shutdown();
    if (server_.joinable()) server_.join();
  }

  static void write(const std::string& name, const std::string& text) {
    std::ofstream(dir_ / name) << text;
  }
  static void write_web(const std::string& cert, const std::string& hash) {
    write("web.yml", "tls_server_config:\n  cert_file: " + cert + ".crt\n  key_file: " + cert +
                         ".key\nbasic_auth_users:\n  prometheus: " + hash + "\n");
  }

  // Status of GET `path` (or POST) as prometheus:`password`; 0 when there was no answer.
  int request(const std::string& password, const std::string& path = "/metrics", bool post = false,
              std::string* body = nullptr) {
    httplib::SSLClient c("127.0.0.1", exporter_->port());
    c.set_ca_cert_path((dir_ / "ca.crt").c_str());
    c.enable_server_certificate_verification(true);
    c.set_connection_timeout(5);
    c.set_read_timeout(20);
    c.set_basic_auth("prometheus", password);
    auto r = post ? c.Post(path, "", "text/plain") : c.Get(path);
    if (!r) return 0;
    if (body) *body = r->body;
    return r->status;
  }

  static inline std::filesystem::path dir_;
  std::unique_ptr<Exporter> exporter_;
  std::thread server_;
};

TEST_F(WebConfigReload, ReloadTakesANewPasswordAndCertificate) {
  EXPECT_EQ(served_certificate_cn(exporter_->port()), "first");
  EXPECT_EQ(request("secret"), 200);
  EXPECT_EQ(request("hunter2"), 401);

  write_web("second", kHunter2Hash);
  EXPECT_EQ(request("secret", "/-/reload", true), 200);

  EXPECT_EQ(request("secret"), 401) << "the revoked password still works";
  EXPECT_EQ(request("hunter2"), 200);
  EXPECT_EQ(served_certificate_cn(exporter_->port()), "second") << "the old certificate is still served";
}

TEST_F(WebConfigReload, ABrokenWebConfigKeepsTheRunningOne) {
  write("web.yml", "basic_auth_users:\n  prometheus: not-a-bcrypt-hash\n");
  std::string body;
  EXPECT_EQ(request("secret", "/-/reload", true, &body), 500);
  EXPECT_NE(body.find("web config"), std::string::npos) << body;
  ASSERT_EQ(request("secret", "/metrics", false, &body), 200);
  EXPECT_NE(body.find("mailtls_config_last_reload_successful 0"), std::string::npos);
  EXPECT_EQ(served_certificate_cn(exporter_->port()), "first");

  // A certificate file that is gone: the same.
  write("web.yml", "tls_server_config:\n  cert_file: missing.crt\n  key_file: second.key\n");
  EXPECT_EQ(request("secret", "/-/reload", true), 500);
  EXPECT_EQ(request("secret"), 200);
  EXPECT_EQ(served_certificate_cn(exporter_->port()), "first");

  write_web("second", kSecretHash);  // fixed: the reload works again
  EXPECT_EQ(request("secret", "/-/reload", true), 200);
  ASSERT_EQ(request("secret", "/metrics", false, &body), 200);
  EXPECT_NE(body.find("mailtls_config_last_reload_successful 1"), std::string::npos);
  EXPECT_EQ(served_certificate_cn(exporter_->port()), "second");
}

}  // namespace
}  // namespace mailtls::exporter
