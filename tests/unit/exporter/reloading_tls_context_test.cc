// ReloadingTlsContext: a certificate and key replaced on disk are served to new connections
// without a restart; a pair that does not load keeps the one in use and is counted once.

#include "exporter/http/reloading_tls_context.h"

#include <gtest/gtest.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <thread>

namespace mailtls::exporter {
namespace {

namespace fs = std::filesystem;

std::string served_cn(const std::shared_ptr<boost::asio::ssl::context>& ctx) {
  X509* cert = SSL_CTX_get0_certificate(ctx->native_handle());
  if (!cert) return "";
  char name[256] = {};
  X509_NAME_get_text_by_NID(X509_get_subject_name(cert), NID_commonName, name, sizeof name);
  return name;
}

class ReloadingTlsContextTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::path(::testing::TempDir()) / ("reloading_tls_context_test_" + std::to_string(getpid()));
    fs::remove_all(dir_);
    fs::create_directories(dir_);
    std::string cmd = "cd " + dir_.string();
    for (const char* name : {"first", "second"}) {
      cmd += std::string(" && openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 -subj /CN=") +
             name + " -keyout " + name + ".key -out " + name + ".crt 2>/dev/null";
    }
    ASSERT_EQ(std::system(cmd.c_str()), 0) << "openssl failed";
    fs::copy_file(dir_ / "first.crt", dir_ / "tls.crt");
    fs::copy_file(dir_ / "first.key", dir_ / "tls.key");
    config_.cert_file = (dir_ / "tls.crt").string();
    config_.key_file = (dir_ / "tls.key").string();
  }
  void TearDown() override { fs::remove_all(dir_); }

  // Replaces `to` with `from` in one rename, as tools that rotate certificates do.
  void replace(const std::string& from, const std::string& to) {
    fs::copy_file(dir_ / from, dir_ / (to + ".tmp"), fs::copy_options::overwrite_existing);
    fs::rename(dir_ / (to + ".tmp"), dir_ / to);
  }

  // Asks for the context until its certificate is `cn` or a reload failed, for at most 20 s
  // (files are looked at once per kRecheckInterval).
  std::string wait_for(ReloadingTlsContext& r, const std::string& cn, const int& failures) {
    const int failures_before = failures;
    std::string got;
    for (int i = 0; i < 200; ++i) {
      got = served_cn(r.current());
      if (got == cn || failures != failures_before) break;
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    return got;
  }

  fs::path dir_;
  WebTlsConfig config_;
};

TEST_F(ReloadingTlsContextTest, FollowsTheFilesAndKeepsTheOldPairWhenTheNewOneIsBroken) {
  int failures = 0;
  std::string error;
  auto r = ReloadingTlsContext::load(config_, [&] { ++failures; }, &error);
  ASSERT_TRUE(r) << error;
  const auto first = r->current();
  EXPECT_EQ(served_cn(first), "first");

  replace("second.key", "tls.key");
  replace("second.crt", "tls.crt");
  EXPECT_EQ(wait_for(*r, "second", failures), "second");
  EXPECT_EQ(failures, 0);
  EXPECT_EQ(served_cn(first), "first") << "a connection's context is not changed under it";

  replace("first.key", "tls.key");  // does not match second.crt
  EXPECT_EQ(wait_for(*r, "never", failures), "second") << "the pair in use stays";
  EXPECT_EQ(failures, 1);
  // The same broken content again (touched, not changed) is not counted again.
  fs::last_write_time(dir_ / "tls.key", fs::file_time_type::clock::now());
  std::this_thread::sleep_for(ReloadingTlsContext::kRecheckInterval + std::chrono::milliseconds(100));
  EXPECT_EQ(served_cn(r->current()), "second");
  EXPECT_EQ(failures, 1);

  replace("first.crt", "tls.crt");  // now first.crt + first.key: loads
  EXPECT_EQ(wait_for(*r, "first", failures), "first");
  EXPECT_EQ(failures, 1);
}

TEST_F(ReloadingTlsContextTest, RefusesABrokenPairAtLoad) {
  replace("second.key", "tls.key");
  std::string error;
  EXPECT_FALSE(ReloadingTlsContext::load(config_, {}, &error));
  EXPECT_NE(error.find("does not match certificate"), std::string::npos) << error;
}

}  // namespace
}  // namespace mailtls::exporter
