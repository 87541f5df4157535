#pragma once
// Finds the TLS-RPT report inside a mailed message (RFC 8460 §5.3: multipart/report;
// report-type=tlsrpt with an application/tlsrpt+json or +gzip part, RFC 6522). A small,
// bounded MIME walker of our own: header unfolding, Content-Type parameters, nested
// multiparts to a fixed depth, base64 / quoted-printable / 7bit / 8bit / binary bodies.
// Lenient where it is unambiguous: any multipart holding a report part, a report part found
// by its .json/.json.gz file name, or a bare JSON message body (mox accepts those too).
// Broken MIME is a RejectionReason::kMime, never a crash. DKIM is verified elsewhere
// (dkim_verification.h), over the message as received.

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

#include "probes/tlsrpt/rejection.h"

namespace mailtls::tlsrpt {

struct MailLimits {
  std::size_t max_message_bytes = 25 * 1024 * 1024;
  std::size_t max_header_bytes = 256 * 1024;  // one entity's header block
  std::size_t max_parts = 64;                 // over the whole message
  int max_depth = 4;                          // multipart nesting
};

struct MailReport {
  std::string report_bytes;           // transfer encoding removed; still gzip if it was sent so
  std::string content_type;           // what to hand to ReportIntake::accept()
  std::string declared_content_type;  // the part's media type as sent (lower case)
  std::string filename;               // Content-Disposition filename or Content-Type name
  std::string tls_report_domain;      // header TLS-Report-Domain ("" if absent)
  std::string tls_report_submitter;   // header TLS-Report-Submitter ("" if absent)
  std::string subject;                // raw Subject header (no RFC 2047 decoding)
  bool multipart_report_tlsrpt = false;  // the message is multipart/report; report-type=tlsrpt
  bool bare_body = false;                // the whole message body was the report
};

struct MailExtractResult {
  MailReport mail;                     // meaningful only when ok()
  std::optional<Rejection> rejection;  // kTooLarge or kMime
  bool ok() const { return !rejection.has_value(); }
};

MailExtractResult extract_mail_report(std::string_view message, const MailLimits& limits = {});

// Transfer decodings, exposed for tests. decode_base64 ignores line breaks and blanks and
// fails on any other character outside the alphabet or on data after padding.
std::optional<std::string> decode_base64(std::string_view encoded);
std::string decode_quoted_printable(std::string_view encoded);

}  // namespace mailtls::tlsrpt
