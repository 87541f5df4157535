#pragma once
// The `_mta-sts.<domain>` TXT record (RFC 8461 §3.1, docs/verdicts.md P1/P2): which strings of the
// RRset count as the STS record, and whether that record follows the §3.1 grammar. Pure parsing;
// the DNS lookup is in sts_txt_lookup.h.
//
// Selection (P1): with several TXT records, those that do not begin with exactly "v=STSv1;" are
// discarded (the §3.1 prose). The ABNF also allows whitespace before the ';' ("v=STSv1 ;", erratum
// 6285): a lone record written that way is parsed by the grammar and accepted with a warning,
// but among several records it is discarded (as a literal sender does), also with a warning.
// Exactly one record must remain, otherwise the domain has no policy (kMultipleRecords / kNoRecord).
//
// Grammar (P2): v=STSv1 first (case-sensitive), then 1*(*WSP ";" *WSP field) [delimiter];
// id = 1*32(ALPHA/DIGIT) required; extension names (ALPHA/DIGIT) *31(ALPHA/DIGIT/"_"/"-"/".")
// and values 1*(%x21-3A / %x3C / %x3E-7E). Duplicate fields: the first one counts (warning).
// Leniency, with a warning: trailing whitespace after the last field (the grammar has no place
// for it, but common senders trim it).

#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace mailtls::mtasts {

// Why there is no usable STS record. A closed set, usable as a metric label.
enum class StsTxtError {
  kNone,
  kNoRecord,         // no TXT record is an STS record: MTA-STS not deployed
  kMultipleRecords,  // more than one record begins with "v=STSv1;": senders ignore MTA-STS (B14)
  kNotAscii,         // bytes outside printable US-ASCII (the record must be US-ASCII)
  kBadVersion,       // does not begin with the case-sensitive "v=STSv1"
  kSyntax,           // delimiters or fields do not follow the grammar
  kMissingId,        // no id field
  kBadId,            // id is not 1-32 letters or digits
  kBadExtension,     // an extension field with a bad name or value
};

// "none", "no_record", "multiple_records", "not_ascii", "bad_version", "syntax", "missing_id",
// "bad_id", "bad_extension"; stable, for labels and logs.
std::string_view error_label(StsTxtError e);

struct StsTxtRecord {
  std::string id;
  // Extension fields in record order (first occurrence of each name only).
  std::vector<std::pair<std::string, std::string>> extensions;
};

struct StsTxtResult {
  StsTxtError error = StsTxtError::kNone;
  std::string message;                // why, when error != kNone
  StsTxtRecord record;                // meaningful only when valid()
  std::string text;                   // the record that was parsed (empty when none was selected)
  std::vector<std::string> warnings;  // SHOULD-level problems, also on a valid record
  int sts_records = 0;                // records that begin with "v=STSv1;" (or the one record parsed)
  int discarded = 0;                  // records set aside by the selection rule
  bool valid() const { return error == StsTxtError::kNone; }
};

// Parses one TXT record (its character-strings already concatenated without separators).
StsTxtResult parse_sts_txt_record(std::string_view text);

// Applies the selection rule of §3.1 to every TXT record at `_mta-sts.<domain>` and parses the
// one that remains. An empty RRset gives kNoRecord.
StsTxtResult select_sts_txt_record(const std::vector<std::string>& txt_records);

}  // namespace mailtls::mtasts
