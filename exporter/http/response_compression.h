#pragma once
// gzip for HTTP answers, done here rather than by cpp-httplib: Debian's cpp-httplib compresses
// every text/* answer itself, preferring brotli at its default quality, which took 23 s for
// the 66 MB /metrics answer of 10,000 domains (and gzip level 6 is also far slower than
// needed). Prometheus asks for gzip only; level 1 compressed that answer 17.5 times.

#include <zlib.h>

#include <functional>
#include <string>
#include <string_view>

namespace mailtls::exporter {

// True when an Accept-Encoding header value accepts gzip (a "gzip" or "*" token without q=0).
bool accepts_gzip(std::string_view accept_encoding);

// Compresses what it is given into one gzip member (RFC 1952), handing the compressed bytes to
// `out` in pieces of up to 64 KiB. After `out` returns false or zlib fails, ok() is false and
// the rest is dropped.
class GzipWriter {
 public:
  using Sink = std::function<bool(std::string_view)>;
  explicit GzipWriter(Sink out, int level = 1);
  ~GzipWriter();
  GzipWriter(const GzipWriter&) = delete;
  GzipWriter& operator=(const GzipWriter&) = delete;

  bool write(std::string_view bytes);
  bool finish();  // writes the trailer; nothing may be written after it
  bool ok() const { return ok_; }

 private:
  bool run(int flush);

  Sink out_;
  z_stream z_{};
  bool ok_ = false;
  bool finished_ = false;
  std::string buffer_;
};

// `body` as one gzip member at zlib level `level`. Empty on a zlib failure.
std::string gzip_compress(std::string_view body, int level = 1);

// Answers smaller than this go out uncompressed: the gzip framing would eat the gain.
inline constexpr size_t kMinCompressedBodyBytes = 1024;

}  // namespace mailtls::exporter
