#pragma once
// Typed views of Answer::rdata. Decoders never trust the bytes: a malformed record is skipped
// and counted, never read past its end.

#include <array>
#include <cstdint>
#include <string>
#include <vector>

#include "probes/dns/resolver.h"

namespace mailtls::dns {

struct MxRecord {
  std::uint16_t preference = 0;
  std::string host;  // presentation format (dns_name.h), no trailing dot; "" for the null MX "."
  bool operator==(const MxRecord&) const = default;
};

struct TlsaRecord {
  std::uint8_t usage = 0;
  std::uint8_t selector = 0;
  std::uint8_t matching_type = 0;
  std::vector<std::uint8_t> data;
  bool operator==(const TlsaRecord&) const = default;
  // "3 1 1 000c70..." (lower-case hex, no spaces), the presentation used in labels and logs.
  std::string to_string() const;
};

template <typename T>
struct Decoded {
  std::vector<T> records;
  int malformed = 0;  // records that could not be decoded and were skipped
};

Decoded<MxRecord> decode_mx(const Answer& a);
Decoded<TlsaRecord> decode_tlsa(const Answer& a);
// Each TXT record's character-strings concatenated without separators (RFC 8461 §3.1, RFC 8460 §3).
Decoded<std::string> decode_txt(const Answer& a);
// A and AAAA as IP literals ("192.0.2.1", "2001:db8::1").
Decoded<std::string> decode_address(const Answer& a);
// CNAME target, presentation format (dns_name.h), no trailing dot.
Decoded<std::string> decode_cname(const Answer& a);

// Encoders, the inverse of the decoders, for fakes and tests.
std::string encode_mx(std::uint16_t preference, std::string_view host);
std::string encode_tlsa(const TlsaRecord& r);
std::string encode_txt(const std::vector<std::string>& strings);
std::string encode_address(std::string_view ip_literal);  // A or AAAA by the literal's family
std::string encode_name(std::string_view name);           // CNAME rdata; presentation format in

}  // namespace mailtls::dns
