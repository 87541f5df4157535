#pragma once
// TLSA records in presentation format, as dig prints them and operators paste them into
// configuration: "3 1 1 000C7016...". RFC 6698 §2.2: the association data is hex and may be
// split by whitespace (dig splits long values); it is normalised by removing the whitespace and
// lower-casing (docs/verdicts.md T5). The three fields are decimal 0-255; the RFC 7218 mnemonics
// (DANE-EE, SPKI, SHA2-256, ...) are accepted too.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "probes/base/expected.h"
#include "probes/dns/records.h"

namespace mailtls::dane {

// The record, or why the text is not one.
using TlsaParseResult = Expected<dns::TlsaRecord, std::string>;

// Parses "usage selector matching-type hex...". Syntax only: a well-formed "3 1 1 abcd" parses
// and is then classified unusable by tlsa_unusable_reason().
TlsaParseResult parse_tlsa_presentation(std::string_view text);

// Association data longer than this is not shown as hex where the length must stay bounded (a
// metric label): 64 bytes is a SHA2-512 digest, the longest matching type 1 and 2 carry.
inline constexpr std::size_t kMaxShownTlsaDataBytes = 64;

// The association data as a bounded label value: lower-case hex for a digest record (matching
// type 1 or 2, at most kMaxShownTlsaDataBytes); otherwise "sha256:" and the lower-case hex
// SHA-256 of the data. A matching-type-0 record holds a whole certificate or
// SubjectPublicKeyInfo (kilobytes), and a malformed record any length up to 64 KiB.
std::string tlsa_data_label(const dns::TlsaRecord& record);

}  // namespace mailtls::dane
