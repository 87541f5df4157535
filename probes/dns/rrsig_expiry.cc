#include "probes/dns/rrsig_expiry.h"

#include <chrono>
#include <cstddef>

namespace mailtls::dns {
namespace {

constexpr std::uint16_t kTypeCname = 5;
constexpr std::uint16_t kTypeDname = 39;
constexpr std::uint16_t kTypeRrsig = 46;

class WireReader {
 public:
  explicit WireReader(std::string_view wire) : wire_(wire) {}

  bool u16(std::uint16_t& v) {
    if (wire_.size() - pos_ < 2) return false;
    v = static_cast<std::uint16_t>((byte(pos_) << 8) | byte(pos_ + 1));
    pos_ += 2;
    return true;
  }
  bool u32(std::uint32_t& v) {
    std::uint16_t hi = 0;
    std::uint16_t lo = 0;
    if (!u16(hi) || !u16(lo)) return false;
    v = (std::uint32_t{hi} << 16) | lo;
    return true;
  }
  bool skip(std::size_t n) {
    if (wire_.size() - pos_ < n) return false;
    pos_ += n;
    return true;
  }
  // Skips an owner name in place: labels up to the root label or a compression pointer (which
  // ends the name here; the pointer target is never followed, so loops cannot trap us).
  bool skip_name() {
    for (int labels = 0; labels < 128; ++labels) {
      if (pos_ >= wire_.size()) return false;
      const std::uint8_t len = byte(pos_);
      if ((len & 0xC0) == 0xC0) return skip(2);
      if ((len & 0xC0) != 0) return false;  // obsolete extended label types
      if (!skip(std::size_t{1} + len)) return false;
      if (len == 0) return true;
    }
    return false;
  }
  std::size_t pos() const { return pos_; }
  std::string_view rest(std::size_t n) const { return wire_.substr(pos_, n); }

 private:
  std::uint8_t byte(std::size_t i) const { return static_cast<std::uint8_t>(wire_[i]); }
  std::string_view wire_;
  std::size_t pos_ = 0;
};

std::uint32_t be32(std::string_view s, std::size_t at) {
  std::uint32_t v = 0;
  for (std::size_t i = 0; i < 4; ++i) v = (v << 8) | static_cast<std::uint8_t>(s[at + i]);
  return v;
}

// Calls `visit(rdata)` with the RDATA of every RRSIG in the answer section of `packet` (at least
// the 18 bytes up to the expiration); stops at the first malformed record.
template <typename Visit>
void for_each_answer_rrsig(std::string_view packet, Visit visit) {
  WireReader r(packet);
  std::uint16_t qdcount = 0;
  std::uint16_t ancount = 0;
  if (!r.skip(4) || !r.u16(qdcount) || !r.u16(ancount) || !r.skip(4)) return;
  for (std::uint16_t i = 0; i < qdcount; ++i) {
    if (!r.skip_name() || !r.skip(4)) return;
  }
  for (std::uint16_t i = 0; i < ancount; ++i) {
    std::uint16_t type = 0;
    std::uint16_t rdlength = 0;
    if (!r.skip_name() || !r.u16(type) || !r.skip(2 + 4) || !r.u16(rdlength)) return;
    const std::string_view rdata = r.rest(rdlength);
    if (!r.skip(rdlength)) return;
    // RRSIG RDATA: type covered(2) algorithm(1) labels(1) original TTL(4) expiration(4) ...
    if (type == kTypeRrsig && rdata.size() >= 18) visit(rdata);
  }
}

std::uint16_t type_covered(std::string_view rdata) {
  return static_cast<std::uint16_t>((static_cast<std::uint8_t>(rdata[0]) << 8) |
                                    static_cast<std::uint8_t>(rdata[1]));
}

}  // namespace

std::optional<SystemTime> earliest_rrsig_expiry(std::string_view packet, std::uint16_t qtype,
                                                SystemTime now) {
  const auto now_s = std::chrono::duration_cast<std::chrono::seconds>(now.time_since_epoch());
  const auto now32 = static_cast<std::uint32_t>(now_s.count());
  std::optional<SystemTime> earliest;
  for_each_answer_rrsig(packet, [&](std::string_view rdata) {
    const std::uint16_t covered = type_covered(rdata);
    if (covered != qtype && covered != kTypeCname && covered != kTypeDname) return;
    const std::uint32_t expiration = be32(rdata, 8);
    // RFC 4034 §3.1.5 / RFC 1982: the difference as a signed 32-bit value.
    const auto delta = static_cast<std::int32_t>(expiration - now32);
    const SystemTime at = SystemTime(now_s) + std::chrono::seconds(delta);
    if (!earliest || at < *earliest) earliest = at;
  });
  return earliest;
}

std::optional<std::uint32_t> rrsig_original_ttl(std::string_view packet, std::uint16_t qtype) {
  std::optional<std::uint32_t> largest;
  for_each_answer_rrsig(packet, [&](std::string_view rdata) {
    if (type_covered(rdata) != qtype) return;
    const std::uint32_t ttl = be32(rdata, 4);
    if (!largest || ttl > *largest) largest = ttl;
  });
  return largest;
}

}  // namespace mailtls::dns
