#include "probes/tlsrpt/gzip_decoder.h"

#include <zlib.h>

#include <algorithm>
#include <array>
#include <limits>

namespace mailtls::tlsrpt {
namespace {

constexpr std::size_t kChunkBytes = 64 * 1024;

// Owns a z_stream set up for gzip only (windowBits 15 + 16).
class InflateStream {
 public:
  InflateStream() { ok_ = inflateInit2(&stream_, 15 + 16) == Z_OK; }
  ~InflateStream() {
    if (ok_) inflateEnd(&stream_);
  }
  InflateStream(const InflateStream&) = delete;
  InflateStream& operator=(const InflateStream&) = delete;
  bool ok() const { return ok_; }
  z_stream& get() { return stream_; }

 private:
  z_stream stream_{};
  bool ok_ = false;
};

GunzipResult failure(GunzipError e, std::string message, std::size_t consumed) {
  return Unexpected(GunzipFailure{e, std::move(message), consumed});
}

}  // namespace

bool looks_like_gzip(std::string_view bytes) {
  return bytes.size() >= 2 && static_cast<unsigned char>(bytes[0]) == 0x1f &&
         static_cast<unsigned char>(bytes[1]) == 0x8b;
}

GunzipResult gunzip(std::string_view input, const GunzipLimits& limits) {
  if (input.size() > limits.max_input_bytes) {
    return failure(GunzipError::kInputTooLarge,
                   "compressed body is " + std::to_string(input.size()) + " bytes, over the limit of " +
                       std::to_string(limits.max_input_bytes),
                   0);
  }
  if (!looks_like_gzip(input)) return failure(GunzipError::kNotGzip, "body does not start with the gzip magic", 0);
  // zlib counts input in uInt; the input cap keeps us far below it, but do not rely on that.
  if (input.size() > std::numeric_limits<uInt>::max()) {
    return failure(GunzipError::kInputTooLarge, "compressed body too large for zlib", 0);
  }

  InflateStream inflater;
  if (!inflater.ok()) return failure(GunzipError::kCorrupt, "inflateInit2 failed", 0);
  z_stream& zs = inflater.get();
  // zlib's API takes a non-const pointer but never writes through next_in.
  zs.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(input.data()));
  zs.avail_in = static_cast<uInt>(input.size());

  std::string output;
  // The trailer's ISIZE (RFC 1952 §2.3.1: the size mod 2^32 of the last member) as a hint, so
  // that the output is allocated once: growing by doubling held up to 2.4x the output (old and
  // new buffer while a 16 MiB string moved to 32 MiB). A lie costs at most the cap, untouched.
  if (input.size() >= 18) {
    const auto b = [&](std::size_t i) { return static_cast<std::uint32_t>(static_cast<unsigned char>(input[i])); };
    const std::size_t n = input.size();
    const std::uint32_t isize = b(n - 4) | (b(n - 3) << 8) | (b(n - 2) << 16) | (b(n - 1) << 24);
    output.reserve(std::min<std::size_t>(isize, limits.max_output_bytes));
  }
  std::array<unsigned char, kChunkBytes> chunk{};
  while (true) {
    zs.next_out = chunk.data();
    zs.avail_out = static_cast<uInt>(chunk.size());
    const int rc = inflate(&zs, Z_NO_FLUSH);
    const std::size_t produced = chunk.size() - zs.avail_out;
    const std::size_t consumed = input.size() - zs.avail_in;
    if (rc == Z_DATA_ERROR || rc == Z_NEED_DICT || rc == Z_MEM_ERROR || rc == Z_STREAM_ERROR) {
      return failure(GunzipError::kCorrupt,
                     std::string("gzip data is corrupt: ") + (zs.msg != nullptr ? zs.msg : "inflate error"), consumed);
    }
    if (produced > limits.max_output_bytes - output.size()) {
      return failure(GunzipError::kOutputTooLarge,
                     "decompressed report would exceed " + std::to_string(limits.max_output_bytes) + " bytes",
                     consumed);
    }
    output.append(reinterpret_cast<const char*>(chunk.data()), produced);
    if (rc == Z_STREAM_END) {
      if (zs.avail_in == 0) break;
      // Another member may follow (gzip a b > c); anything else after the trailer is corrupt.
      const std::string_view rest = input.substr(consumed);
      if (!looks_like_gzip(rest)) {
        return failure(GunzipError::kCorrupt, "bytes follow the end of the gzip stream", consumed);
      }
      if (inflateReset(&zs) != Z_OK) return failure(GunzipError::kCorrupt, "inflateReset failed", consumed);
      continue;
    }
    if (rc == Z_BUF_ERROR || (zs.avail_in == 0 && produced == 0)) {
      return failure(GunzipError::kTruncated, "gzip stream ends early (truncated body)", consumed);
    }
  }
  return output;
}

}  // namespace mailtls::tlsrpt
