// The data label of mailtls_dane_tlsa_record_match: digests as hex, anything else (a whole
// certificate under matching type 0, an over-long or unknown-type record) as its SHA-256.
#include <gtest/gtest.h>

#include <string>

#include "probes/base/hex.h"
#include "probes/dane/tlsa_presentation.h"

namespace mailtls::dane {
namespace {

dns::TlsaRecord record(std::uint8_t matching_type, std::vector<std::uint8_t> data) {
  return dns::TlsaRecord{3, 1, matching_type, std::move(data)};
}

// SHA-256("abc"), FIPS 180-2 appendix B.1.
constexpr const char* kAbcSha256 = "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad";

TEST(TlsaDataLabel, DigestRecordsAreShownAsHex) {
  std::string ab;
  for (int i = 0; i < 32; ++i) ab += "ab";
  EXPECT_EQ(tlsa_data_label(record(1, std::vector<std::uint8_t>(32, 0xab))), ab);
  EXPECT_EQ(tlsa_data_label(record(2, std::vector<std::uint8_t>(64, 0x01))), mailtls::to_hex(std::vector<std::uint8_t>(64, 0x01)));
}

TEST(TlsaDataLabel, FullDataRecordsAreHashed) {
  EXPECT_EQ(tlsa_data_label(record(0, {'a', 'b', 'c'})), std::string("sha256:") + kAbcSha256);
  const auto label = tlsa_data_label(record(0, std::vector<std::uint8_t>(4000, 0x30)));
  EXPECT_EQ(label.size(), 7u + 64u);
  EXPECT_EQ(label.rfind("sha256:", 0), 0u);
}

TEST(TlsaDataLabel, OverlongOrUnknownRecordsAreHashed) {
  EXPECT_EQ(tlsa_data_label(record(1, std::vector<std::uint8_t>(65, 0x02))).size(), 7u + 64u);
  EXPECT_EQ(tlsa_data_label(record(255, {'a', 'b', 'c'})), std::string("sha256:") + kAbcSha256);
}

}  // namespace
}  // namespace mailtls::dane
