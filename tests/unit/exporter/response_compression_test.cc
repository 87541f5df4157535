#include "exporter/http/response_compression.h"

#include <gtest/gtest.h>

#include <cstdint>

#include "probes/tlsrpt/gzip_decoder.h"

namespace mailtls::exporter {
namespace {

TEST(AcceptsGzip, Rfc9110AcceptEncodingValues) {
  EXPECT_TRUE(accepts_gzip("gzip"));
  EXPECT_TRUE(accepts_gzip("GZIP"));
  EXPECT_TRUE(accepts_gzip("br, gzip, deflate"));  // curl --compressed
  EXPECT_TRUE(accepts_gzip("gzip;q=0.5"));
  EXPECT_TRUE(accepts_gzip("x-gzip"));
  EXPECT_TRUE(accepts_gzip("*"));
  EXPECT_TRUE(accepts_gzip(" deflate ;q=1 , gzip ; q=0.1"));
  EXPECT_FALSE(accepts_gzip(""));
  EXPECT_FALSE(accepts_gzip("br"));
  EXPECT_FALSE(accepts_gzip("identity"));
  EXPECT_FALSE(accepts_gzip("gzip;q=0"));
  EXPECT_FALSE(accepts_gzip("gzip; q=0.000"));
  EXPECT_FALSE(accepts_gzip("*, gzip;q=0"));
  EXPECT_FALSE(accepts_gzip("*;q=0"));
  EXPECT_FALSE(accepts_gzip("gzipx"));
}

TEST(GzipCompress, RoundTripsAndShrinksMetricsText) {
  std::string text;
  for (int i = 0; i < 5000; ++i) {
    text += "mailtls_probe_success{domain=\"d" + std::to_string(i) + ".example\"} 1\n";
  }
  const auto gz = gzip_compress(text);
  ASSERT_FALSE(gz.empty());
  EXPECT_TRUE(tlsrpt::looks_like_gzip(gz));
  EXPECT_LT(gz.size() * 5, text.size());
  const auto back = tlsrpt::gunzip(gz);
  ASSERT_TRUE(back.ok()) << back.message;
  EXPECT_EQ(back.output, text);
}

TEST(GzipCompress, EmptyAndBinaryBodies) {
  const auto empty = tlsrpt::gunzip(gzip_compress(""));
  ASSERT_TRUE(empty.ok()) << empty.message;
  EXPECT_EQ(empty.output, "");
  std::string bytes;
  for (int i = 0; i < 70000; ++i) bytes.push_back(static_cast<char>((i * 7919) % 251));
  const auto back = tlsrpt::gunzip(gzip_compress(bytes, 9));
  ASSERT_TRUE(back.ok()) << back.message;
  EXPECT_EQ(back.output, bytes);
}

TEST(GzipWriter, IncompressibleInputComesOutInPiecesAndRoundTrips) {
  std::string bytes;
  std::uint32_t x = 12345;
  for (int i = 0; i < 300000; ++i) {
    x = x * 1664525u + 1013904223u;
    bytes.push_back(static_cast<char>(x >> 24));
  }
  std::string out;
  int pieces = 0;
  GzipWriter gz([&](std::string_view p) {
    EXPECT_LE(p.size(), 64u << 10);
    out.append(p);
    ++pieces;
    return true;
  });
  ASSERT_TRUE(gz.write(std::string_view(bytes).substr(0, 1000)));
  ASSERT_TRUE(gz.write(std::string_view(bytes).substr(1000)));
  ASSERT_TRUE(gz.finish());
  EXPECT_GE(pieces, 5);
  const auto back = tlsrpt::gunzip(out);
  ASSERT_TRUE(back.ok()) << back.message;
  EXPECT_EQ(back.output, bytes);
  EXPECT_FALSE(gz.write("more"));  // after finish()
}

TEST(GzipWriter, StopsWhenTheSinkRefuses) {
  int calls = 0;
  GzipWriter gz([&](std::string_view) { return ++calls < 2; });
  std::string bytes(1 << 20, '\0');
  std::uint32_t x = 7;
  for (auto& c : bytes) c = static_cast<char>((x = x * 1664525u + 1013904223u) >> 24);
  EXPECT_FALSE(gz.write(bytes));
  EXPECT_FALSE(gz.ok());
  EXPECT_EQ(calls, 2);
  EXPECT_FALSE(gz.finish());
}

}  // namespace
}  // namespace mailtls::exporter
