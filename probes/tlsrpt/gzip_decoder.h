#pragma once
// Bounded gunzip for report bodies (RFC 8460 application/tlsrpt+gzip). Output grows in fixed
// chunks and inflation stops as soon as the next byte would pass the cap, so a gzip bomb costs
// at most max_output_bytes + one chunk of memory, whatever it claims to expand to.

#include <cstddef>
#include <string>
#include <string_view>
#include "probes/base/expected.h"

namespace mailtls::tlsrpt {

struct GunzipLimits {
  std::size_t max_input_bytes = 10 * 1024 * 1024;
  std::size_t max_output_bytes = 20 * 1024 * 1024;
};

enum class GunzipError {
  kInputTooLarge,   // refused before inflating anything
  kNotGzip,         // no gzip magic (1f 8b)
  kCorrupt,         // zlib reported a data or header error, or bytes follow the last member
  kTruncated,       // the input ended inside a member
  kOutputTooLarge,  // inflating stopped at max_output_bytes
};

struct GunzipFailure {
  GunzipError kind = GunzipError::kCorrupt;
  std::string message;
  std::size_t input_consumed = 0;  // bytes of input zlib read before it stopped
};

// The whole inflated output, or why there is none (a partial output is never returned).
using GunzipResult = Expected<std::string, GunzipFailure>;

// True if the bytes begin with the gzip magic number.
bool looks_like_gzip(std::string_view bytes);

// Inflate one or more concatenated gzip members (RFC 1952 §2.2).
GunzipResult gunzip(std::string_view input, const GunzipLimits& limits = {});

}  // namespace mailtls::tlsrpt
