// A mailed TLS-RPT report (RFC 8460 §5.3): MIME extraction, then the intake of the message.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "probes/tlsrpt/mail_report_extractor.h"
#include "probes/tlsrpt/report_intake.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view message(reinterpret_cast<const char*>(data), size);
  (void)mailtls::tlsrpt::extract_mail_report(message);
  (void)mailtls::tlsrpt::decode_base64(message);
  (void)mailtls::tlsrpt::decode_quoted_printable(message);
  static const mailtls::tlsrpt::ReportIntake intake;
  (void)intake.accept_mail(message, mailtls::tlsrpt::MailAcceptPolicy{.allow_unsigned = true});
  return 0;
}
