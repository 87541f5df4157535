// Replays the seeds and any crash inputs of fuzz_peer_text (tests/fuzz/peer_text_check.h) in
// the ordinary build, so that what the fuzzer checks stays checked without clang: bytes from
// peers in MX target labels, SMTP replies, TXT records and certificate names must come out
// of /metrics, `check --output=json` and `check` as valid UTF-8 without control characters
// (security review findings 1, 2 and 14).
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "tests/fuzz/peer_text_check.h"

namespace mailtls::fuzzing {
namespace {

std::vector<std::filesystem::path> inputs() {
  const std::filesystem::path src(MAILTLS_SOURCE_DIR);
  std::vector<std::filesystem::path> out;
  for (const auto& e : std::filesystem::directory_iterator(src / "tests/fuzz/corpus/fuzz_peer_text")) {
    out.push_back(e.path());
  }
  for (const auto& e : std::filesystem::directory_iterator(src / "tests/robustness/regressions")) {
    if (e.path().filename().string().rfind("fuzz_peer_text-", 0) == 0) out.push_back(e.path());
  }
  return out;
}

TEST(PeerTextRegression, EveryCorpusInputRendersSafely) {
  const auto files = inputs();
  ASSERT_GE(files.size(), 4u);
  for (const auto& path : files) {
    std::ifstream in(path, std::ios::binary);
    std::stringstream bytes;
    bytes << in.rdbuf();
    EXPECT_EQ(check_peer_text(bytes.str()), "") << path;
  }
}

TEST(PeerTextRegression, TheReviewersMxTarget) {
  // MX 10 \255\254\027[2J.peerbytes.test, greeting with ESC ]0; and a cut euro sign.
  const std::string mx("\x06\xff\xfe\x1b[2J\x09peerbytes\x04test\x00", 23);
  std::string input;
  input.push_back(static_cast<char>(mx.size()));
  input += mx;
  const std::string banner = "554 \x1b]0;pwned\x07\xff\xfe\xe2\x82";
  input.push_back(static_cast<char>(banner.size()));
  input += banner;
  EXPECT_EQ(check_peer_text(input), "");
}

}  // namespace
}  // namespace mailtls::fuzzing
