// Configuration inputs found by fuzzing that must be errors, never exceptions. (Robustness
// finding R6: load_config_text() calls std::filesystem::is_directory() without an error_code on
// every domain_files entry, so a path the OS refuses to stat (a component longer than NAME_MAX:
// ENAMETOOLONG; a directory without search permission: EACCES) throws filesystem_error out of
// the loader: the exporter aborts at start, and a SIGHUP reload kills the running process.)
#include <gtest/gtest.h>

#include <cstdlib>
#include <fstream>
#include <sstream>
#include <string>

#include "exporter/config.h"

namespace mailtls::exporter {
namespace {

// A macro: GTEST_SKIP() returns from the function it is written in, which must be the test.
#define SKIP_UNLESS_KNOWN_BUGS_RUN()                                                          \
  if (std::getenv("MAILTLS_RUN_KNOWN_BUGS") == nullptr)                                       \
  GTEST_SKIP() << "known bug R6 (docs/robustness.md): domain_files paths that cannot be "     \
                  "stat()ed throw std::filesystem::filesystem_error out of load_config_text. " \
                  "Set MAILTLS_RUN_KNOWN_BUGS=1 to run this reproducer."

TEST(ConfigRegression, DomainFileNameLongerThanNameMaxIsAnError) {
  SKIP_UNLESS_KNOWN_BUGS_RUN();
  const std::string text =
      "domains: [main.example]\ndomain_files: [\"" + std::string(300, 'a') + "\"]\n";
  ConfigResult result;
  EXPECT_NO_THROW(result = load_config_text(text, "/tmp/r6.yaml"));
  EXPECT_FALSE(result.config.has_value());
  EXPECT_NE(result.error.find("domain_files"), std::string::npos) << result.error;
}

TEST(ConfigRegression, FuzzerCrashInputIsAnError) {
  SKIP_UNLESS_KNOWN_BUGS_RUN();
  std::ifstream in(std::string(MAILTLS_SOURCE_DIR) +
                       "/tests/robustness/regressions/"
                       "fuzz_exporter_config-domain-files-name-too-long.bin",
                   std::ios::binary);
  ASSERT_TRUE(in.good());
  std::stringstream bytes;
  bytes << in.rdbuf();
  ConfigResult result;
  EXPECT_NO_THROW(result = load_config_text(bytes.str(), "fuzz.yaml"));
  EXPECT_FALSE(result.config.has_value());
}

}  // namespace
}  // namespace mailtls::exporter
