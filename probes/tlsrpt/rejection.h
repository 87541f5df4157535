#pragma once
// Why a TLS-RPT report was refused: a closed set, the `reason` label of
// tlsrpt_reports_rejected_total, plus free text for the log (never for a label).
// A duplicate report is not a rejection: it is accepted (2xx) and counted once (RFC 8460 §5.5).

#include <string>
#include <string_view>

namespace mailtls::tlsrpt {

enum class RejectionReason {
  kTooLarge,              // the body (or message) is over the input size cap
  kBadGzip,               // declared or sniffed gzip that does not inflate
  kDecompressedTooLarge,  // inflating would exceed the output cap (a gzip bomb)
  kBadJson,               // not JSON, not UTF-8, or nested too deeply
  kSchema,                // JSON, but not an RFC 8460 §4.4 report (missing field, wrong type)
  kBadContentType,        // an HTTP Content-Type that is no kind of report
  kMime,                  // a mailed report whose MIME structure is broken or has no report part
  // Mailed reports without a DKIM signature of the reporting domain (RFC 8460 §5.3;
  // dkim_signing_rule.h):
  kDkimFail,              // a signature by the reporting domain does not verify
  kDkimNoSignature,       // no DKIM-Signature at all
  kDkimPolicy,            // signed, but not by the reporting domain, or with l=, or a key not for tlsrpt
  kDkimKeyUnavailable,    // the key could not be had for as long as the mail was kept for retries
};

struct Rejection {
  RejectionReason reason = RejectionReason::kSchema;
  std::string message;
};

// "too_large", "bad_gzip", ...: stable label values.
inline std::string_view reason_label(RejectionReason r) {
  switch (r) {
    case RejectionReason::kTooLarge: return "too_large";
    case RejectionReason::kBadGzip: return "bad_gzip";
    case RejectionReason::kDecompressedTooLarge: return "decompressed_too_large";
    case RejectionReason::kBadJson: return "bad_json";
    case RejectionReason::kSchema: return "schema";
    case RejectionReason::kBadContentType: return "bad_content_type";
    case RejectionReason::kMime: return "mime";
    case RejectionReason::kDkimFail: return "dkim_fail";
    case RejectionReason::kDkimNoSignature: return "dkim_no_signature";
    case RejectionReason::kDkimPolicy: return "dkim_policy";
    case RejectionReason::kDkimKeyUnavailable: return "dkim_key_unavailable";
  }
  return "unknown";
}

}  // namespace mailtls::tlsrpt
