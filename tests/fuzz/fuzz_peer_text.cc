// Peer bytes (MX target labels, SMTP replies, TXT records, certificate names, log lines) into
// the DNS name decoder and every renderer: see peer_text_check.h.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>

#include "tests/fuzz/peer_text_check.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string problem =
      mailtls::fuzzing::check_peer_text({reinterpret_cast<const char*>(data), size});
  if (!problem.empty()) {
    std::fprintf(stderr, "fuzz_peer_text: %s\n", problem.c_str());
    std::abort();
  }
  return 0;
}
