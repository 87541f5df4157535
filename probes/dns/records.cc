#include "probes/dns/records.h"

#include <arpa/inet.h>

#include <algorithm>
#include <cstddef>
#include <string_view>

#include "probes/base/hex.h"
#include "probes/dns/dns_name.h"

namespace mailtls::dns {

std::string_view to_string(RrType t) {
  switch (t) {
    case RrType::kA: return "A";
    case RrType::kCname: return "CNAME";
    case RrType::kMx: return "MX";
    case RrType::kTxt: return "TXT";
    case RrType::kAaaa: return "AAAA";
    case RrType::kTlsa: return "TLSA";
  }
  // Types outside the enum that the self-test asks for.
  switch (static_cast<std::uint16_t>(t)) {
    case 6: return "SOA";
    case 48: return "DNSKEY";
    default: return "UNKNOWN";
  }
}

std::string_view to_string(Security s) {
  switch (s) {
    case Security::kSecure: return "secure";
    case Security::kInsecure: return "insecure";
    case Security::kBogus: return "bogus";
    case Security::kIndeterminate: return "indeterminate";
  }
  return "indeterminate";
}

std::string_view to_string(Outcome o) {
  switch (o) {
    case Outcome::kData: return "data";
    case Outcome::kNoData: return "nodata";
    case Outcome::kNxDomain: return "nxdomain";
    case Outcome::kError: return "error";
  }
  return "error";
}

namespace {

std::uint8_t byte_at(std::string_view s, std::size_t i) { return static_cast<std::uint8_t>(s[i]); }

// Reads an uncompressed wire-format name starting at `pos` (RDATA from libunbound carries no
// compression pointers for these types). Returns false on a pointer, an over-long name, or a
// label running past the end. Output: presentation format (dns_name.h: lower case, octets
// outside printable ASCII as \DDD, a literal dot as "\."), no trailing dot; "" for root.
bool read_uncompressed_name(std::string_view wire, std::size_t& pos, std::string& out) {
  out.clear();
  std::size_t total = 0;
  while (true) {
    if (pos >= wire.size()) return false;
    const std::uint8_t len = byte_at(wire, pos++);
    if (len == 0) return true;
    if ((len & 0xC0) != 0) return false;  // compression pointer or extended label type
    if (pos + len > wire.size()) return false;
    total += len + 1;
    if (total > 255) return false;
    if (!out.empty()) out.push_back('.');
    append_presentation_label(out, wire.substr(pos, len));
    pos += len;
  }
}

void append_u16(std::string& out, std::uint16_t v) {
  out.push_back(static_cast<char>(v >> 8));
  out.push_back(static_cast<char>(v & 0xFF));
}

}  // namespace

std::string TlsaRecord::to_string() const {
  return std::to_string(usage) + " " + std::to_string(selector) + " " + std::to_string(matching_type) +
         " " + to_hex(data);
}

Decoded<MxRecord> decode_mx(const Answer& a) {
  Decoded<MxRecord> d;
  for (const std::string& rr : a.rdata) {
    if (rr.size() < 3) {
      ++d.malformed;
      continue;
    }
    MxRecord mx;
    mx.preference = static_cast<std::uint16_t>((byte_at(rr, 0) << 8) | byte_at(rr, 1));
    std::size_t pos = 2;
    if (!read_uncompressed_name(rr, pos, mx.host) || pos != rr.size()) {
      ++d.malformed;
      continue;
    }
    d.records.push_back(std::move(mx));
  }
  return d;
}

Decoded<TlsaRecord> decode_tlsa(const Answer& a) {
  Decoded<TlsaRecord> d;
  for (const std::string& rr : a.rdata) {
    // Three octets of parameters; the association data may be empty here, usability (T5) is
    // decided by the DANE code, not by the decoder.
    if (rr.size() < 3) {
      ++d.malformed;
      continue;
    }
    TlsaRecord t;
    t.usage = byte_at(rr, 0);
    t.selector = byte_at(rr, 1);
    t.matching_type = byte_at(rr, 2);
    t.data.assign(rr.begin() + 3, rr.end());
    d.records.push_back(std::move(t));
  }
  return d;
}

Decoded<std::string> decode_txt(const Answer& a) {
  Decoded<std::string> d;
  for (const std::string& rr : a.rdata) {
    std::string joined;
    std::size_t pos = 0;
    bool ok = !rr.empty();
    while (ok && pos < rr.size()) {
      const std::size_t len = byte_at(rr, pos++);
      if (pos + len > rr.size()) {
        ok = false;
        break;
      }
      joined.append(rr, pos, len);
      pos += len;
    }
    if (!ok) {
      ++d.malformed;
      continue;
    }
    d.records.push_back(std::move(joined));
  }
  return d;
}

Decoded<std::string> decode_address(const Answer& a) {
  Decoded<std::string> d;
  for (const std::string& rr : a.rdata) {
    char buf[INET6_ADDRSTRLEN] = {};
    const char* ok = nullptr;
    if (rr.size() == 4) {
      ok = ::inet_ntop(AF_INET, rr.data(), buf, sizeof buf);
    } else if (rr.size() == 16) {
      ok = ::inet_ntop(AF_INET6, rr.data(), buf, sizeof buf);
    }
    if (ok == nullptr) {
      ++d.malformed;
      continue;
    }
    d.records.emplace_back(buf);
  }
  return d;
}

Decoded<std::string> decode_cname(const Answer& a) {
  Decoded<std::string> d;
  for (const std::string& rr : a.rdata) {
    std::string target;
    std::size_t pos = 0;
    if (!read_uncompressed_name(rr, pos, target) || pos != rr.size() || target.empty()) {
      ++d.malformed;
      continue;
    }
    d.records.push_back(std::move(target));
  }
  return d;
}

std::string encode_name(std::string_view name) {
  // Presentation format in, so that tests can publish names with any octets ("\255", "\.").
  if (auto wire = presentation_to_wire(name)) return *wire;
  return std::string(1, '\0');  // encoders serve tests; keep the output a valid name
}

std::string encode_mx(std::uint16_t preference, std::string_view host) {
  std::string out;
  append_u16(out, preference);
  out += encode_name(host);
  return out;
}

std::string encode_tlsa(const TlsaRecord& r) {
  std::string out;
  out.push_back(static_cast<char>(r.usage));
  out.push_back(static_cast<char>(r.selector));
  out.push_back(static_cast<char>(r.matching_type));
  out.append(r.data.begin(), r.data.end());
  return out;
}

std::string encode_txt(const std::vector<std::string>& strings) {
  std::string out;
  for (std::string_view s : strings) {
    // Character-strings hold at most 255 octets: split longer input as publishers do.
    do {
      const std::size_t n = std::min<std::size_t>(s.size(), 255);
      out.push_back(static_cast<char>(n));
      out.append(s.substr(0, n));
      s.remove_prefix(n);
    } while (!s.empty());
  }
  if (strings.empty()) out.push_back('\0');
  return out;
}

std::string encode_address(std::string_view ip_literal) {
  const std::string ip(ip_literal);
  unsigned char buf[16] = {};
  if (::inet_pton(AF_INET, ip.c_str(), buf) == 1) {
    return std::string(reinterpret_cast<const char*>(buf), 4);
  }
  if (::inet_pton(AF_INET6, ip.c_str(), buf) == 1) {
    return std::string(reinterpret_cast<const char*>(buf), 16);
  }
  return std::string();
}

}  // namespace mailtls::dns
