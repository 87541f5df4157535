#pragma once
// The `_smtp._tls` TXT record (RFC 8460 §3): which TXT records count as TLSRPT, and the `rua`
// URIs a valid one names. Pure parsing; the lookup is the caller's (probes/dns).

#include <string>
#include <string_view>
#include <vector>

namespace mailtls::tlsrpt {

// Why a domain's TLSRPT record is not usable. A closed set, usable as a metric label.
enum class TlsRptRecordError {
  kNone,
  kNoRecord,              // no TXT record begins with "v=TLSRPTv1"
  kMultipleRecords,       // more than one does: the domain does not implement TLSRPT (§3)
  kSyntax,                // the record does not follow the §3 grammar
  kMissingRua,            // no rua field (it is required)
  kDuplicateRua,          // two rua fields: which one a reporter would use is unspecified
  kUnsupportedScheme,     // a URI that is neither mailto: nor https:
  kUnencodedReservedChar, // '!' or ';' inside a URI (must be percent-encoded), e.g. DMARC's "!10m"
  kBadUri,                // a URI that is empty or not a URI (bad characters, no address/host)
};

// "no_record", "multiple_records", ...; stable, for labels and logs.
std::string_view error_label(TlsRptRecordError e);

struct TlsRptRecord {
  std::vector<std::string> rua;  // in record order, as written (percent-encoding kept)
};

struct TlsRptRecordResult {
  TlsRptRecordError error = TlsRptRecordError::kNone;
  std::string message;   // human-readable reason when error != kNone
  TlsRptRecord record;   // meaningful only when valid()
  int discarded = 0;     // TXT records ignored because they do not begin with v=TLSRPTv1
  bool valid() const { return error == TlsRptRecordError::kNone; }
};

// Parse one TXT record (its character-strings already concatenated without separators).
// A string that does not begin with v=TLSRPTv1 gives kNoRecord.
TlsRptRecordResult parse_tlsrpt_record(std::string_view txt);

// Apply the discovery rule of §3 to a whole RRset: discard records that do not begin with
// "v=TLSRPTv1" (followed by a delimiter or the end), then exactly one must remain.
TlsRptRecordResult parse_tlsrpt_rrset(const std::vector<std::string>& txt_records);

}  // namespace mailtls::tlsrpt
