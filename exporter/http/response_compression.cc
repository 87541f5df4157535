#include "exporter/http/response_compression.h"

#include <algorithm>
#include <cctype>
#include <climits>
#include <utility>

namespace mailtls::exporter {
namespace {

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

bool iequals(std::string_view a, std::string_view b) {
  return a.size() == b.size() &&
         std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return std::tolower(static_cast<unsigned char>(x)) == std::tolower(static_cast<unsigned char>(y));
         });
}

// q=0 (or 0.0, 0.00, 0.000) refuses the coding (RFC 9110 §12.5.3).
bool refused(std::string_view params) {
  while (!params.empty()) {
    const auto semi = params.find(';');
    auto p = trim(params.substr(0, semi));
    params = semi == std::string_view::npos ? std::string_view{} : params.substr(semi + 1);
    if (p.size() < 2 || std::tolower(static_cast<unsigned char>(p[0])) != 'q' || p[1] != '=') continue;
    auto v = trim(p.substr(2));
    if (v.empty() || v[0] != '0') return false;
    for (char c : v.substr(1)) {
      if (c != '.' && c != '0') return false;
    }
    return true;
  }
  return false;
}

}  // namespace

bool accepts_gzip(std::string_view accept_encoding) {
  bool star = false, gzip = false, gzip_refused = false;
  while (!accept_encoding.empty()) {
    const auto comma = accept_encoding.find(',');
    auto item = trim(accept_encoding.substr(0, comma));
    accept_encoding =
        comma == std::string_view::npos ? std::string_view{} : accept_encoding.substr(comma + 1);
    const auto semi = item.find(';');
    const auto coding = trim(item.substr(0, semi));
    const bool no = semi != std::string_view::npos && refused(item.substr(semi + 1));
    if (iequals(coding, "gzip") || iequals(coding, "x-gzip")) {
      gzip = !no;
      gzip_refused = no;
    } else if (coding == "*") {
      star = !no;
    }
  }
  return gzip || (star && !gzip_refused);
}

GzipWriter::GzipWriter(Sink out, int level) : out_(std::move(out)), buffer_(64 << 10, '\0') {
  // windowBits 15 + 16: a gzip header and trailer around the deflate stream.
  ok_ = deflateInit2(&z_, level, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) == Z_OK;
}

GzipWriter::~GzipWriter() { deflateEnd(&z_); }

bool GzipWriter::run(int flush) {
  while (ok_) {
    z_.next_out = reinterpret_cast<Bytef*>(buffer_.data());
    z_.avail_out = static_cast<uInt>(buffer_.size());
    const int rc = deflate(&z_, flush);
    if (rc != Z_OK && rc != Z_STREAM_END && rc != Z_BUF_ERROR) ok_ = false;
    const size_t produced = buffer_.size() - z_.avail_out;
    if (ok_ && produced > 0 && !out_(std::string_view(buffer_.data(), produced))) ok_ = false;
    // Done when deflate left output room: it has taken all input (and, when finishing, ended).
    if (z_.avail_out != 0 || rc == Z_STREAM_END) return ok_ && (flush != Z_FINISH || rc == Z_STREAM_END);
  }
  return false;
}

bool GzipWriter::write(std::string_view bytes) {
  if (!ok_ || finished_) return false;
  while (!bytes.empty()) {
    // zlib counts in 32 bits: large inputs go in pieces.
    const auto piece = std::min<size_t>(bytes.size(), 1u << 30);
    z_.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(bytes.data()));
    z_.avail_in = static_cast<uInt>(piece);
    if (!run(Z_NO_FLUSH)) return false;
    bytes.remove_prefix(piece);
  }
  return true;
}

bool GzipWriter::finish() {
  if (!ok_ || finished_) return false;
  finished_ = true;
  z_.next_in = nullptr;
  z_.avail_in = 0;
  return run(Z_FINISH);
}

std::string gzip_compress(std::string_view body, int level) {
  std::string out;
  GzipWriter gz([&out](std::string_view piece) {
    out.append(piece);
    return true;
  }, level);
  if (!gz.write(body) || !gz.finish()) return {};
  return out;
}

}  // namespace mailtls::exporter
