// `check` for a newcomer (issue 22): without --config.file and without the default file it runs
// on the system resolver and says so; a named file that is missing is still an error. And
// --help lists the commands, their flags and exit codes.
#include "exporter/cli/check_config.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

namespace mailtls::exporter {
namespace {

class CheckConfig : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::path(::testing::TempDir()) /
           ("check_config_test_" + std::to_string(getpid()) + "_" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::remove_all(dir_);
    std::filesystem::create_directories(dir_);
    flags_.config_file = (dir_ / "mailtls_exporter.yml").string();  // as if run in dir_
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  std::filesystem::path dir_;
  Flags flags_;
};

TEST_F(CheckConfig, NoFileAndNoFlagUsesTheSystemResolverAndSaysSo) {
  std::string note;
  const auto r = load_config_for_check(flags_, &note);
  ASSERT_TRUE(r.config) << r.error;
  EXPECT_TRUE(r.config->domains.empty());
  EXPECT_TRUE(r.config->resolver.use_resolv_conf);
  EXPECT_TRUE(r.config->resolver.forwarders.empty());
  EXPECT_EQ(r.config->resolver.root_trust_anchor_file, "/usr/share/dns/root.key");
  EXPECT_FALSE(r.config->smtp.probe_special_addresses);
  EXPECT_EQ(r.config->timeout, Config{}.timeout);
  EXPECT_NE(note.find("/etc/resolv.conf"), std::string::npos) << note;
  EXPECT_NE(note.find("/usr/share/dns/root.key"), std::string::npos) << note;
  EXPECT_NE(note.find("no --config.file"), std::string::npos) << note;
  EXPECT_EQ(note.find('\n'), std::string::npos) << "one line";
}

TEST_F(CheckConfig, AMissingFileNamedWithTheFlagIsAnError) {
  flags_.config_file_given = true;
  std::string note;
  const auto r = load_config_for_check(flags_, &note);
  EXPECT_FALSE(r.config);
  EXPECT_NE(r.error.find("mailtls_exporter.yml: cannot read"), std::string::npos) << r.error;
  EXPECT_EQ(note, "");
}

TEST_F(CheckConfig, TheDefaultFileIsUsedWhenItExists) {
  std::ofstream(flags_.config_file) << "domains: [example.org]\nsmtp: {port: 2525}\n";
  std::string note;
  const auto r = load_config_for_check(flags_, &note);
  ASSERT_TRUE(r.config) << r.error;
  EXPECT_EQ(r.config->smtp.port, 2525);
  EXPECT_EQ(note, "");
}

TEST_F(CheckConfig, AnInvalidDefaultFileIsStillAnError) {
  std::ofstream(flags_.config_file) << "domains: [exa mple.org]\n";
  std::string note;
  EXPECT_FALSE(load_config_for_check(flags_, &note).config);
  EXPECT_EQ(note, "");
}

TEST_F(CheckConfig, ADanglingSymlinkIsAFileTheOperatorMeant) {
  std::filesystem::create_symlink(dir_ / "elsewhere.yml", flags_.config_file);
  std::string note;
  const auto r = load_config_for_check(flags_, &note);
  EXPECT_FALSE(r.config);
  EXPECT_NE(r.error.find("cannot read"), std::string::npos) << r.error;
}

TEST(Flags, ConfigFileGivenIsRecorded) {
  EXPECT_FALSE(parse_flags({"mailtls_exporter", "check", "example.com"}).flags->config_file_given);
  EXPECT_TRUE(parse_flags({"mailtls_exporter", "--config.file=x.yml", "check"}).flags->config_file_given);
  // Naming the default file explicitly still makes a missing one an error.
  EXPECT_TRUE(parse_flags({"mailtls_exporter", "--config.file", "mailtls_exporter.yml"}).flags->config_file_given);
}

TEST(Flags, UsageListsTheCommandsTheirFlagsAndExitCodes) {
  const std::string u = flags_usage("mailtls_exporter");
  for (const char* s : {"mailtls_exporter [<flags>] check [--output=text|json] [<domain>...]",
                        "Commands:", "--output=text", "--output=json", "/etc/resolv.conf",
                        "/usr/share/dns/root.key",
                        "Exit codes: 0 every verdict good; 1 a verdict broken or degraded",
                        "2 a domain could not be probed", "Exit codes: 0 stopped by a signal",
                        "Flags:", "--config.file"}) {
    EXPECT_NE(u.find(s), std::string::npos) << s << "\n" << u;
  }
}

}  // namespace
}  // namespace mailtls::exporter
