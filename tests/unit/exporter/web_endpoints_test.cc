// The exporter's endpoints on an ephemeral loopback port, fetched with a real HTTP client.

#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cctype>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <thread>

#include "exporter/runtime/exporter.h"
#include "tests/unit/exporter/http_get.h"

namespace mailtls::exporter {
namespace {

using mailtls::testing::http_get;
using mailtls::testing::http_post;

class RunningExporter : public ::testing::Test {
 protected:
  void SetUp() override {
    Flags flags;
    flags.listen_address = "127.0.0.1:0";
    flags.config_file = config_path_;
    // The exporter locks its storage directory: one per test process, not a shared ./data.
    flags.storage_path = ::testing::TempDir() + "/web_endpoints_state_" + std::to_string(getpid());
    write_config("domains: [example.com]\n");
    auto loaded = load_config_file(config_path_);
    ASSERT_TRUE(loaded.config) << loaded.error;
    exporter_ = std::make_unique<Exporter>(flags, *loaded.config);
    std::string error;
    ASSERT_TRUE(exporter_->start(&error)) << error;
    server_ = std::thread([this] { exporter_->serve(); });
  }
  void TearDown() override {
    exporter_->shutdown();
    if (server_.joinable()) server_.join();
  }
  void write_config(const std::string& text) {
    FILE* f = std::fopen(config_path_.c_str(), "w");
    std::fputs(text.c_str(), f);
    std::fclose(f);
  }
  int port() const { return exporter_->port(); }

  std::string config_path_ = ::testing::TempDir() + "/web_endpoints_test_" + std::to_string(getpid()) + ".yml";
  std::unique_ptr<Exporter> exporter_;
  std::thread server_;
};

TEST_F(RunningExporter, MetricsHaveBuildInfoAndSelfMetrics) {
  auto r = http_get(port(), "/metrics");
  ASSERT_EQ(r.status, 200);
  EXPECT_EQ(r.content_type, "text/plain; version=0.0.4; charset=utf-8");
  EXPECT_NE(r.body.find("mailtls_build_info{revision=\""), std::string::npos);
  EXPECT_NE(r.body.find("version=\"0.1.0\"} 1"), std::string::npos);
  EXPECT_NE(r.body.find("mailtls_config_last_reload_successful 1"), std::string::npos);
  EXPECT_NE(r.body.find("mailtls_domains_configured 1"), std::string::npos);
  EXPECT_NE(r.body.find("process_resident_memory_bytes "), std::string::npos);
  EXPECT_NE(r.body.find("process_open_fds "), std::string::npos);
}

// Compression is the exporter's own (response_compression.h): gzip for clients that accept
// it (Prometheus), never brotli, nothing for clients that refuse it. Through curl.
TEST_F(RunningExporter, MetricsAreGzippedOnlyForClientsThatAcceptGzip) {
  if (std::system("command -v curl >/dev/null 2>&1") != 0) GTEST_SKIP() << "curl not installed";
  const std::string dir = ::testing::TempDir() + "/web_endpoints_gzip_" + std::to_string(getpid());
  ASSERT_EQ(std::system(("mkdir -p " + dir).c_str()), 0);
  auto fetch = [&](const std::string& accept, std::string* headers) {
    const std::string cmd = "curl -s --max-time 30 -D " + dir + "/headers -o " + dir + "/body -H 'Accept-Encoding: " +
                            accept + "' http://127.0.0.1:" + std::to_string(port()) + "/metrics";
    EXPECT_EQ(std::system(cmd.c_str()), 0) << cmd;
    std::ifstream h(dir + "/headers");
    std::stringstream hs;
    hs << h.rdbuf();
    *headers = hs.str();
    std::transform(headers->begin(), headers->end(), headers->begin(),
                   [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  };
  std::string headers;
  fetch("br, gzip, deflate", &headers);
  EXPECT_NE(headers.find("content-encoding: gzip"), std::string::npos) << headers;
  EXPECT_EQ(std::system(("gzip -dc < " + dir + "/body | grep -q '^mailtls_build_info{'").c_str()), 0);
  fetch("br", &headers);
  EXPECT_EQ(headers.find("content-encoding"), std::string::npos) << headers;
  EXPECT_EQ(std::system(("grep -q '^mailtls_build_info{' " + dir + "/body").c_str()), 0);
  fetch("gzip;q=0", &headers);
  EXPECT_EQ(headers.find("content-encoding"), std::string::npos) << headers;
  std::system(("rm -rf " + dir).c_str());
}

// Above metrics_cache_min_bytes (here 0), gzip scrapes come from the background render: valid
// gzip of a valid answer, and no older than the render interval (5 s): a failed reload shows
// up in it within seconds.
TEST(CachedMetricsRender, GzipScrapesComeFromARenderAtMostSecondsOld) {
  if (std::system("command -v curl >/dev/null 2>&1") != 0) GTEST_SKIP() << "curl not installed";
  const std::string dir = ::testing::TempDir() + "/cached_render_" + std::to_string(getpid());
  ASSERT_EQ(std::system(("mkdir -p " + dir).c_str()), 0);
  const std::string config = dir + "/config.yml";
  std::ofstream(config) << "domains: [example.com]\n";
  Flags flags;
  flags.listen_address = "127.0.0.1:0";
  flags.config_file = config;
  flags.storage_path = dir + "/state";
  auto loaded = load_config_file(config);
  ASSERT_TRUE(loaded.config) << loaded.error;
  Exporter exporter(flags, *loaded.config);
  exporter.set_metrics_cache_min_bytes(0);
  std::string error;
  ASSERT_TRUE(exporter.start(&error)) << error;
  std::thread serving([&] { exporter.serve(); });
  const std::string fetch = "curl -s --max-time 30 -H 'Accept-Encoding: gzip' -D " + dir + "/headers -o " + dir +
                            "/body.gz http://127.0.0.1:" + std::to_string(exporter.port()) + "/metrics && gzip -dc < " +
                            dir + "/body.gz > " + dir + "/body";
  ASSERT_EQ(std::system(fetch.c_str()), 0);
  EXPECT_EQ(std::system(("grep -qi '^content-encoding: gzip' " + dir + "/headers").c_str()), 0);
  EXPECT_EQ(std::system(("grep -q '^mailtls_config_last_reload_successful 1$' " + dir + "/body").c_str()), 0);
  std::ofstream(config) << "domains: [\n";  // broken YAML
  EXPECT_FALSE(exporter.reload(&error));
  bool seen = false;
  for (int i = 0; i < 60 && !seen; ++i) {  // up to 15 s, three render intervals
    ASSERT_EQ(std::system(fetch.c_str()), 0);
    seen = std::system(("grep -q '^mailtls_config_last_reload_successful 0$' " + dir + "/body").c_str()) == 0;
    if (!seen) std::this_thread::sleep_for(std::chrono::milliseconds(250));
  }
  EXPECT_TRUE(seen) << "the gzip answer still shows the state before the failed reload";
  exporter.shutdown();
  serving.join();
  std::system(("rm -rf " + dir).c_str());
}

TEST_F(RunningExporter, HealthReadyAndLanding) {
  EXPECT_EQ(http_get(port(), "/-/healthy").status, 200);
  EXPECT_EQ(http_get(port(), "/-/ready").status, 200);
  auto landing = http_get(port(), "/");
  EXPECT_EQ(landing.status, 200);
  EXPECT_NE(landing.body.find("<a href=\"metrics\">"), std::string::npos);
  EXPECT_EQ(http_get(port(), "/no-such-page").status, 404);
}

TEST_F(RunningExporter, ReloadKeepsOldConfigOnError) {
  write_config("domains: [a.example, b.example]\n");
  auto ok = http_post(port(), "/-/reload", "", "text/plain");
  EXPECT_EQ(ok.status, 200) << ok.body;
  auto m = http_get(port(), "/metrics").body;
  EXPECT_NE(m.find("mailtls_domains_configured 2"), std::string::npos);

  write_config("domains: [\"bad name\"]\n");
  auto bad = http_post(port(), "/-/reload", "", "text/plain");
  EXPECT_EQ(bad.status, 500);
  EXPECT_NE(bad.body.find("invalid domain name"), std::string::npos) << bad.body;
  m = http_get(port(), "/metrics").body;
  EXPECT_NE(m.find("mailtls_config_last_reload_successful 0"), std::string::npos);
  EXPECT_NE(m.find("mailtls_domains_configured 2"), std::string::npos);  // old config kept
}

TEST(WebServer, PortInUseIsAClearError) {
  Flags flags;
  flags.listen_address = "127.0.0.1:0";
  flags.storage_path = ::testing::TempDir() + "/port_in_use_a_" + std::to_string(getpid());
  Exporter first(flags, Config{});
  std::string error;
  ASSERT_TRUE(first.start(&error)) << error;
  flags.listen_address = "127.0.0.1:" + std::to_string(first.port());
  // A storage directory of its own: on the first one's, the storage lock would refuse first.
  flags.storage_path = ::testing::TempDir() + "/port_in_use_b_" + std::to_string(getpid());
  Exporter second(flags, Config{});
  EXPECT_FALSE(second.start(&error));
  EXPECT_NE(error.find("cannot listen on 127.0.0.1:" + std::to_string(first.port())),
            std::string::npos)
      << error;
}

// A streamed body (HttpResponse::body_writer) of 200,000 small pieces, about 2.5 MB: plain and
// gzipped it arrives whole and in order; a client that goes away mid-answer stops the writer.
TEST(WebServer, StreamedBodyArrivesWholePlainAndGzipped) {
  if (std::system("command -v curl >/dev/null 2>&1") != 0) GTEST_SKIP() << "curl not installed";
  constexpr int kPieces = 200000;
  std::atomic<int> last_written{0};
  WebServer server;
  server.get("/stream", [&](const HttpRequest&) {
    HttpResponse r;
    r.content_type = "text/plain; version=0.0.4; charset=utf-8";
    r.body_writer = [&](const BodyPieceWriter& write) {
      for (int i = 0; i < kPieces; ++i) {
        last_written = i;
        if (!write("line " + std::to_string(i) + "\n")) return;
      }
    };
    return r;
  });
  std::string error;
  ASSERT_TRUE(server.bind(*parse_listen_address("127.0.0.1:0", &error), &error)) << error;
  std::thread serving([&] { server.serve(); });
  const std::string url = "http://127.0.0.1:" + std::to_string(server.port()) + "/stream";
  const std::string dir = ::testing::TempDir() + "/web_stream_" + std::to_string(getpid());
  ASSERT_EQ(std::system(("mkdir -p " + dir + " && seq -f 'line %.0f' 0 " + std::to_string(kPieces - 1) + " > " + dir + "/want").c_str()), 0);
  EXPECT_EQ(std::system(("curl -s --max-time 60 -o " + dir + "/plain " + url + " && cmp -s " + dir + "/plain " + dir + "/want").c_str()), 0);
  EXPECT_EQ(std::system(("curl -s --max-time 60 -H 'Accept-Encoding: gzip' -o " + dir + "/body.gz " + url +
                         " && gzip -dc < " + dir + "/body.gz | cmp -s - " + dir + "/want").c_str()), 0);
  EXPECT_EQ(last_written.load(), kPieces - 1);
  // A client that reads 1 KB and hangs up: the writer is told to stop before the end.
  last_written = 0;
  EXPECT_EQ(std::system(("curl -s --max-time 60 -N " + url + " | head -c 1024 > /dev/null").c_str()), 0);
  for (int i = 0; i < 500 && last_written.load() == 0; ++i) std::this_thread::sleep_for(std::chrono::milliseconds(10));
  std::this_thread::sleep_for(std::chrono::milliseconds(500));
  EXPECT_LT(last_written.load(), kPieces - 1);
  server.stop();
  serving.join();
  std::system(("rm -rf " + dir).c_str());
}

TEST(ListenAddress, Forms) {
  std::string err;
  auto a = parse_listen_address(":9925", &err);
  ASSERT_TRUE(a);
  EXPECT_EQ(a->host, "::");
  EXPECT_EQ(a->port, 9925);
  a = parse_listen_address("[::1]:80", &err);
  ASSERT_TRUE(a);
  EXPECT_EQ(a->host, "::1");
  EXPECT_FALSE(parse_listen_address("9925", &err));
  EXPECT_FALSE(parse_listen_address("::1:80", &err));
  EXPECT_FALSE(parse_listen_address("host:99999", &err));
}

}  // namespace
}  // namespace mailtls::exporter
