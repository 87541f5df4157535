// Certificate inspection on DER bytes as a TLS peer presents them.
#include <cstddef>
#include <cstdint>
#include <span>

#include "probes/tls/certificate.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  (void)mailtls::tls::inspect_certificate(std::span<const std::uint8_t>(data, size));
  return 0;
}
