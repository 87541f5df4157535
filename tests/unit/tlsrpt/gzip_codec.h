#pragma once
// Test-side gzip compression (zlib deflate with a gzip wrapper), to build inputs such as a gzip
// bomb in memory instead of committing large files.

#include <zlib.h>

#include <cstddef>
#include <stdexcept>
#include <string>
#include <string_view>

namespace mailtls::tlsrpt::testing {

// gzip of `repeat` copies of `block`, streamed through deflate so the plain text never exists.
inline std::string gzip_repeated(std::string_view block, std::size_t repeat) {
  z_stream zs{};
  if (deflateInit2(&zs, Z_BEST_COMPRESSION, Z_DEFLATED, 15 + 16, 9, Z_DEFAULT_STRATEGY) != Z_OK) {
    throw std::runtime_error("deflateInit2");
  }
  std::string out;
  char buf[16384];
  for (std::size_t i = 0; i <= repeat; ++i) {
    const bool last = i == repeat;
    zs.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(block.data()));
    zs.avail_in = last ? 0 : static_cast<uInt>(block.size());
    do {
      zs.next_out = reinterpret_cast<Bytef*>(buf);
      zs.avail_out = sizeof buf;
      deflate(&zs, last ? Z_FINISH : Z_NO_FLUSH);
      out.append(buf, sizeof buf - zs.avail_out);
    } while (zs.avail_out == 0);
  }
  deflateEnd(&zs);
  return out;
}

inline std::string gzip(std::string_view text) { return gzip_repeated(text, 1); }

}  // namespace mailtls::tlsrpt::testing
