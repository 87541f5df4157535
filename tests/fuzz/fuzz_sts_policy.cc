// MTA-STS policy file (RFC 8461 §3.2) as fetched from the policy host.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "probes/mtasts/sts_policy.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  (void)mailtls::mtasts::parse_sts_policy(
      std::string_view(reinterpret_cast<const char*>(data), size));
  return 0;
}
