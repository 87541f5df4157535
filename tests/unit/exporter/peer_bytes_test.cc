// Review findings 1, 2, 14 (peer bytes) and 12, 15, 16 (the state file): what a peer's bytes
// and a hostile storage directory must not do to the exporter.

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <thread>

#include "exporter/cli/check_report.h"
#include "exporter/runtime/exporter.h"
#include "exporter/runtime/state_store.h"
#include "exporter/runtime/storage_lock.h"
#include "probes/base/printable_text.h"
#include "tests/unit/exporter/http_get.h"
#include "tests/unit/exporter/scripted_prober.h"

namespace mailtls::exporter {
namespace {

using namespace std::string_literals;
using mailtls::testing::http_get;
using mailtls::testing::sample_report;
using mailtls::testing::ScriptedProber;

std::filesystem::path fresh_dir(const std::string& name) {
  auto dir = std::filesystem::path(::testing::TempDir()) /
             ("peer_bytes_test_" + std::to_string(getpid()) + "_" + name);
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  return dir;
}

std::string read_file(const std::filesystem::path& p) {
  std::ifstream in(p, std::ios::binary);
  return std::string((std::istreambuf_iterator<char>(in)), {});
}

// No C0 control but the newline ending each line, no ESC, nothing that is not UTF-8.
void expect_terminal_safe(const std::string& text) {
  EXPECT_TRUE(is_valid_utf8(text));
  for (char c : text) {
    const auto u = static_cast<unsigned char>(c);
    if (c == '\n') continue;
    ASSERT_FALSE(u < 0x20 || u == 0x7f) << "control byte " << int(u) << " in:\n" << text;
  }
}

// A probe of a domain whose MX target, banner, TXT record and certificate hold bytes that
// are not UTF-8 and terminal control sequences, handed to the exporter by a scripted prober
// (judge_with_history() escapes them, as judge() does for every real probe).
domain::DomainReport hostile_report(const std::string& name) {
  auto r = sample_report(name);
  const std::string evil = "\xff\xfe\x1b[2J\x1b]0;pwned\x07\nmailtls_probe_success{domain=\"x\"} 1"s;
  r.mx[0].host = "mx" + evil + "." + name;
  r.rrsets.push_back({"_25._tcp." + r.mx[0].host, "TLSA", dns::Security::kSecure,
                      dns::Outcome::kData, std::nullopt, ""});
  r.mx[0].addresses[0].failure = "banner: greeting 554 " + evil + std::string(150, 'x') + "\xe2\x82";
  r.mx[0].addresses[0].leaf->subject = "CN=" + evil;
  r.tlsrpt.rua = {"mailto:" + evil};
  r.log.push_back("MX host " + r.mx[0].host + ": dane-usable");
  return r;
}

TEST(PeerBytes, CheckOutputIsValidJsonAndTerminalSafe) {
  const std::vector<domain::DomainReport> reports{hostile_report("a.example")};
  std::string json;
  ASSERT_NO_THROW(json = format_check_json(reports, {}));  // aborted `check` (exit 134) before
  nlohmann::json parsed;
  ASSERT_NO_THROW(parsed = nlohmann::json::parse(json));
  EXPECT_EQ(parsed["domains"][0]["mx"][0]["host"],
            "mx\\xff\\xfe\\x1b[2J\\x1b]0;pwned\\x07\\x0amailtls_probe_success{domain=\"x\"} 1.a.example");
  const std::string text = format_check_text(reports[0], /*color=*/false, std::chrono::system_clock::now());
  expect_terminal_safe(text);
  EXPECT_NE(text.find("\\x1b[2J"), std::string::npos) << text;
}

TEST(PeerBytes, StateWithKeysThatAreNotUtf8IsSaved) {
  const auto dir = fresh_dir("utf8");
  std::string warning, err;
  {
    auto s = StateStore::open(dir.string(), &warning);
    s.put("tlsa_rrsets", "a.example mx\xff\xfe\x1b.a.example",
          {{"digest", "d\xc3"}, {"first_seen", 1.0}});
    ASSERT_NO_THROW(EXPECT_TRUE(s.save(&err)) << err);  // dump() threw type_error.316 before
  }
  EXPECT_NO_THROW(nlohmann::json::parse(read_file(dir / "state.json")));
  auto s = StateStore::open(dir.string(), &warning);
  EXPECT_TRUE(warning.empty()) << warning;
  EXPECT_EQ(s.section("tlsa_rrsets").size(), 1u);
}

TEST(PeerBytes, SymlinkAtTheTempFileIsNotFollowed) {
  const auto dir = fresh_dir("symlink");
  const auto victim = dir / "victim";
  std::ofstream(victim) << "precious\n";
  std::filesystem::create_symlink(victim, dir / "state.json.tmp");
  std::string warning, err;
  auto s = StateStore::open(dir.string(), &warning);
  s.put("a", "b", 1);
  EXPECT_TRUE(s.save(&err)) << err;
  EXPECT_EQ(read_file(victim), "precious\n");
  EXPECT_EQ(StateStore::open(dir.string(), &warning).get("a", "b"), 1);
  EXPECT_FALSE(std::filesystem::exists(std::filesystem::symlink_status(dir / "state.json.tmp")));
}

int set_aside_files(const std::filesystem::path& dir) {
  int n = 0;
  for (const auto& e : std::filesystem::directory_iterator(dir)) {
    n += e.path().filename().string().rfind("state.json.corrupt-", 0) == 0;
  }
  return n;
}

void expect_set_aside(const std::string& name, const std::string& content,
                      const std::string& why) {
  const auto dir = fresh_dir(name);
  std::ofstream(dir / "state.json", std::ios::binary) << content;
  std::string warning, err;
  auto s = StateStore::open(dir.string(), &warning);
  EXPECT_NE(warning.find(why), std::string::npos) << warning;
  EXPECT_NE(warning.find("set aside as"), std::string::npos) << warning;
  EXPECT_EQ(set_aside_files(dir), 1);
  EXPECT_TRUE(s.section("tlsa_rrsets").empty());
  s.put("a", "b", 1);
  EXPECT_TRUE(s.save(&err)) << err;
  EXPECT_LT(std::filesystem::file_size(dir / "state.json"), 1000u);
}

TEST(PeerBytes, DeeplyNestedStateIsSetAside) {
  // 100,000 levels crashed the first save (recursion in dump()) at every start; 30,000 were
  // written back as 900 MB of indentation.
  for (int depth : {100000, 30000, 9}) {
    std::string nested = std::string(depth, '[') + std::string(depth, ']');
    expect_set_aside("deep" + std::to_string(depth),
                     "{\"format\":1,\"sections\":{\"tlsrpt_seen\":{},\"x\":{\"k\":" + nested + "}}}",
                     "nested deeper than");
  }
}

TEST(PeerBytes, StateOfTheWrongShapeIsSetAside) {
  expect_set_aside("shape1", R"({"format":1,"sections":{"tlsa_rrsets":{"k":"not an object"}}})",
                   "wrong shape");
  expect_set_aside("shape2", R"({"format":1,"sections":{"tlsrpt_counters":{"k":{"v":1}}}})",
                   "wrong shape");
  expect_set_aside("shape3", R"({"format":1,"sections":{"x":[1,2]}})", "not an object");
  expect_set_aside("shape4", R"({"format":2,"sections":{}})", "format version");
}

TEST(PeerBytes, EverySectionTheExporterWritesLoadsBack) {
  // The TLS-RPT receiver keeps label ages in tlsrpt_labels: a state it saved must not be set
  // aside at the next start as "the wrong shape".
  const auto dir = fresh_dir("sections");
  std::ofstream(dir / "state.json", std::ios::binary)
      << R"({"format":1,"sections":{"tlsrpt_counters":{"c":3},"tlsrpt_seen":{"k":1},)"
      << R"("tlsrpt_labels":{"organization\tGoogle Inc.":1764950400},"tlsa_rrsets":{"m":{"first_seen":1}}}})";
  std::string warning;
  auto s = StateStore::open(dir.string(), &warning);
  EXPECT_EQ(warning, "");
  EXPECT_EQ(set_aside_files(dir), 0);
  EXPECT_EQ(s.section("tlsrpt_labels").size(), 1u);
  expect_set_aside("labels", R"({"format":1,"sections":{"tlsrpt_labels":{"k":{"v":1}}}})",
                   "wrong shape");
}

TEST(PeerBytes, StateThatIsNoRegularFileIsSetAsideWithoutBlocking) {
  const auto dir = fresh_dir("fifo");
  ASSERT_EQ(::mkfifo((dir / "state.json").c_str(), 0600), 0);
  std::string warning;
  auto s = StateStore::open(dir.string(), &warning);  // read from the FIFO: blocked forever
  EXPECT_NE(warning.find("not a regular file"), std::string::npos) << warning;
}

TEST(PeerBytes, StorageLockIsExclusive) {
  const auto dir = fresh_dir("lock");
  std::string error, warning;
  {
    StorageLock first;
    ASSERT_TRUE(first.acquire(dir.string(), &error, &warning)) << error;
    EXPECT_TRUE(first.held());
    StorageLock second;
    EXPECT_FALSE(second.acquire(dir.string(), &error, &warning));
    EXPECT_NE(error.find("in use by another mailtls_exporter"), std::string::npos) << error;
  }
  StorageLock again;  // released with its holder
  EXPECT_TRUE(again.acquire(dir.string(), &error, &warning)) << error;
}

class HostileExporter : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fresh_dir(::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::ofstream(dir_ / "config.yml") << "defaults: {interval: 1h, timeout: 5s}\n"
                                           "domains: [a.example]\n";
  }
  std::unique_ptr<Exporter> make() {
    Flags flags;
    flags.listen_address = "127.0.0.1:0";
    flags.config_file = (dir_ / "config.yml").string();
    flags.storage_path = (dir_ / "state").string();
    auto loaded = load_config_file(flags.config_file);
    EXPECT_TRUE(loaded) << loaded.error();
    auto prober = std::make_shared<ScriptedProber>(
        [](const DomainConfig& d) { return hostile_report(d.name); });
    auto factory = [prober](const Config&, std::string*) -> std::shared_ptr<DomainProber> {
      return prober;
    };
    return std::make_unique<Exporter>(flags, *loaded, WebConfig{}, factory);
  }
  std::filesystem::path dir_;
};

TEST_F(HostileExporter, MetricsDebugOutputAndStateStaySane) {
  auto exporter = make();
  std::string error;
  ASSERT_TRUE(exporter->start(&error)) << error;
  std::thread server([&] { exporter->serve(); });
  for (int i = 0; i < 500 && exporter->probes_completed() < 1; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  ASSERT_GE(exporter->probes_completed(), 1);
  const std::string metrics = http_get(exporter->port(), "/metrics").body;
  EXPECT_TRUE(is_valid_utf8(metrics));
  EXPECT_EQ(metrics.find('\x1b'), std::string::npos);
  EXPECT_NE(metrics.find("mx=\"mx\\\\xff\\\\xfe\\\\x1b[2J"), std::string::npos) << metrics;
  if (std::system("command -v promtool >/dev/null 2>&1") == 0) {
    std::ofstream(dir_ / "metrics.txt", std::ios::binary) << metrics;
    const std::string cmd = "promtool check metrics < " + (dir_ / "metrics.txt").string() +
                            " > " + (dir_ / "promtool.txt").string() + " 2>&1";
    EXPECT_EQ(std::system(cmd.c_str()), 0) << read_file(dir_ / "promtool.txt");
  }
  const auto debug = http_get(exporter->port(), "/probe?target=a.example&debug=true");
  EXPECT_EQ(debug.status, 200);
  expect_terminal_safe(debug.body);
  // The forged sample stays inside the escaped MX name: no line of its own.
  EXPECT_EQ(debug.body.find("\nmailtls_probe_success{domain=\"x\"}"), std::string::npos);

  exporter->shutdown();  // saves the state
  server.join();
  nlohmann::json state;
  ASSERT_NO_THROW(state = nlohmann::json::parse(read_file(dir_ / "state" / "state.json")));
  EXPECT_EQ(state["sections"]["tlsa_rrsets"].size(), 1u);
}

TEST_F(HostileExporter, SecondExporterOnTheSameStorageRefusesToStart) {
  auto first = make();
  std::string error;
  ASSERT_TRUE(first->start(&error)) << error;
  auto second = make();
  EXPECT_FALSE(second->start(&error));
  EXPECT_NE(error.find("in use by another mailtls_exporter"), std::string::npos) << error;
  first->shutdown();
  first.reset();
  second.reset();
  auto third = make();  // the lock went with the first exporter
  EXPECT_TRUE(third->start(&error)) << error;
  third->shutdown();
}

}  // namespace
}  // namespace mailtls::exporter
