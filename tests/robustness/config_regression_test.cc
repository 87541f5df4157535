// Configuration inputs found by fuzzing that must be errors, never exceptions. (Robustness
// finding R6, fixed: load_config_text() called std::filesystem::is_directory() without an
// error_code on every domain_files entry, so a path the OS refuses to stat (a component longer
// than NAME_MAX: ENAMETOOLONG) threw filesystem_error out of the loader: the exporter aborted at
// start, and a SIGHUP reload killed the running process.)
#include <gtest/gtest.h>

#include <fstream>
#include <sstream>
#include <string>

#include "exporter/config/config.h"

namespace mailtls::exporter {
namespace {

TEST(ConfigRegression, DomainFileNameLongerThanNameMaxIsAnError) {
  const std::string text =
      "domains: [main.example]\ndomain_files: [\"" + std::string(300, 'a') + "\"]\n";
  ConfigResult result;
  EXPECT_NO_THROW(result = load_config_text(text, "/tmp/r6.yaml"));
  EXPECT_FALSE(result.config.has_value());
  EXPECT_NE(result.error.find("domain_files"), std::string::npos) << result.error;
}

TEST(ConfigRegression, FuzzerCrashInputIsAnError) {
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
