// Bounded gunzip: valid input, corrupt and truncated input, and the gzip bomb that must stop at
// the output cap without inflating (or allocating) the rest.
#include "probes/tlsrpt/gzip_decoder.h"

#include <gtest/gtest.h>

#include "tests/unit/tlsrpt/fixture.h"
#include "tests/unit/tlsrpt/gzip_codec.h"

namespace mailtls::tlsrpt {
namespace {

using testing::gzip;
using testing::gzip_repeated;
using testing::read_fixture;

TEST(Gunzip, CommittedFixtureInflatesToTheJson) {
  const GunzipResult r = gunzip(read_fixture("google-sts.json.gz"));
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_EQ(*r, read_fixture("google-sts.json"));
}

TEST(Gunzip, RoundTripAcrossManyChunks) {
  std::string text;
  for (int i = 0; i < 50000; ++i) text += std::to_string(i) + ",";
  const GunzipResult r = gunzip(gzip(text));
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_EQ(*r, text);
}

TEST(Gunzip, ConcatenatedMembers) {
  const GunzipResult r = gunzip(gzip("hello ") + gzip("world"));
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_EQ(*r, "hello world");
}

TEST(Gunzip, NotGzip) {
  EXPECT_EQ(gunzip("{\"a\":1}").error().kind, GunzipError::kNotGzip);
  EXPECT_EQ(gunzip("").error().kind, GunzipError::kNotGzip);
  EXPECT_FALSE(looks_like_gzip("\x1f"));
  EXPECT_TRUE(looks_like_gzip("\x1f\x8b"));
}

TEST(Gunzip, Truncated) {
  const std::string whole = gzip(read_fixture("google-sts.json"));
  for (std::size_t cut : {std::size_t{2}, std::size_t{10}, whole.size() / 2, whole.size() - 1}) {
    const GunzipResult r = gunzip(std::string_view(whole).substr(0, cut));
    ASSERT_FALSE(r) << cut;
    EXPECT_TRUE(r.error().kind == GunzipError::kTruncated || r.error().kind == GunzipError::kCorrupt) << cut;
  }
  EXPECT_EQ(gunzip(std::string_view(whole).substr(0, whole.size() / 2)).error().kind, GunzipError::kTruncated);
}

TEST(Gunzip, CorruptData) {
  std::string bad = gzip(read_fixture("google-sts.json"));
  bad[3] = '\xff';  // reserved FLG bits set: zlib refuses the header
  EXPECT_EQ(gunzip(bad).error().kind, GunzipError::kCorrupt);
  std::string crc = gzip(read_fixture("google-sts.json"));
  crc[crc.size() - 6] ^= 0x55;  // CRC32 in the trailer
  EXPECT_EQ(gunzip(crc).error().kind, GunzipError::kCorrupt);
}

TEST(Gunzip, TrailingGarbage) {
  EXPECT_EQ(gunzip(gzip("x") + "junk").error().kind, GunzipError::kCorrupt);
}

TEST(Gunzip, InputCap) {
  const GunzipResult r = gunzip(gzip("hello"), GunzipLimits{10, 1000});
  EXPECT_EQ(r.error().kind, GunzipError::kInputTooLarge);
  EXPECT_EQ(r.error().input_consumed, 0u);
}

TEST(Gunzip, OutputExactlyAtCapIsAccepted) {
  const std::string text(1000, 'a');
  const GunzipResult r = gunzip(gzip(text), GunzipLimits{1 << 20, 1000});
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_EQ(r->size(), 1000u);
  EXPECT_EQ(gunzip(gzip(text), GunzipLimits{1 << 20, 999}).error().kind, GunzipError::kOutputTooLarge);
}

TEST(Gunzip, BombStopsAtTheCap) {
  // 256 MiB of zeros compresses to about 256 KiB; with a 1 MiB cap the decoder must stop after
  // reading only the first kilobyte or two of it.
  const std::string block(1 << 20, '\0');
  const std::string bomb = gzip_repeated(block, 256);
  ASSERT_LT(bomb.size(), 1u << 20);
  const GunzipLimits limits{4u << 20, 1u << 20};
  const GunzipResult r = gunzip(bomb, limits);
  EXPECT_EQ(r.error().kind, GunzipError::kOutputTooLarge);
  // Stopped early: at most cap + one 64 KiB chunk was inflated, which needs ~1/1000 of the input.
  EXPECT_LT(r.error().input_consumed, bomb.size() / 20);
  EXPECT_GT(r.error().input_consumed, 0u);
}

}  // namespace
}  // namespace mailtls::tlsrpt
