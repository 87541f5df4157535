// The gzip decoder with small output limits so bombs hit the cap quickly.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "probes/tlsrpt/gzip_decoder.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  (void)mailtls::tlsrpt::looks_like_gzip(input);
  (void)mailtls::tlsrpt::gunzip(input, {.max_input_bytes = 1 << 20, .max_output_bytes = 1 << 20});
  return 0;
}
