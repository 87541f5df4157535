// SMTP replies as a server sends them: fed in pieces whose sizes come from the input, so the
// line reassembly across reads is exercised; each complete reply also goes through the EHLO
// capability parser.
#include <fuzzer/FuzzedDataProvider.h>

#include <cstddef>
#include <cstdint>
#include <string>

#include "probes/smtp/reply_parser.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  FuzzedDataProvider provider(data, size);
  mailtls::smtp::ReplyParser parser(mailtls::smtp::ReplyLimits{
      .max_line_bytes = 512, .max_lines = 50, .max_reply_bytes = 8192});
  while (provider.remaining_bytes() > 0) {
    const auto chunk_size = provider.ConsumeIntegralInRange<std::size_t>(1, 64);
    const std::string chunk = provider.ConsumeBytesAsString(chunk_size);
    std::size_t offset = 0;
    while (offset < chunk.size()) {
      std::size_t consumed = 0;
      const auto state = parser.feed(std::string_view(chunk).substr(offset), &consumed);
      if (consumed > chunk.size() - offset) __builtin_trap();  // the parser overran its input
      offset += consumed;
      if (state == mailtls::smtp::ReplyParser::State::kComplete) {
        (void)parse_ehlo_capabilities(parser.reply());
        (void)parser.reply().text();
        parser.reset();
      } else if (state == mailtls::smtp::ReplyParser::State::kError) {
        parser.reset();
        break;
      } else if (consumed == 0) {
        break;
      }
    }
  }
  mailtls::smtp::SmtpReply reply;
  mailtls::smtp::ReplyError error{};
  (void)mailtls::smtp::parse_reply(std::string_view(reinterpret_cast<const char*>(data), size),
                                   &reply, &error);
  return 0;
}
