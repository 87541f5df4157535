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

#include "probes/dns/records.h"

namespace mailtls::dane {

struct TlsaParseResult {
  std::optional<dns::TlsaRecord> record;
  std::string error;  // set when record is empty
};

// Parses "usage selector matching-type hex...". Syntax only: a well-formed "3 1 1 abcd" parses
// and is then classified unusable by tlsa_unusable_reason().
TlsaParseResult parse_tlsa_presentation(std::string_view text);

}  // namespace mailtls::dane
