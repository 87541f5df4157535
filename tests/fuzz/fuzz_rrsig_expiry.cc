// The answer-packet walk that finds the earliest RRSIG expiration: a whole DNS message as
// libunbound's answer_packet would carry it (name compression, pointers, counts all hostile).
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "probes/dns/rrsig_expiry.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view packet(reinterpret_cast<const char*>(data), size);
  const auto now = mailtls::SystemTime(std::chrono::seconds(1'800'000'000));
  for (std::uint16_t qtype : {1, 15, 16, 28, 52}) {
    (void)mailtls::dns::earliest_rrsig_expiry(packet, qtype, now);
  }
  return 0;
}
