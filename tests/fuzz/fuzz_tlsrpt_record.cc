// TLS-RPT TXT record (RFC 8460 §3): one record, and the RRset split at NUL bytes.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "probes/tlsrpt/tlsrpt_record.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  (void)mailtls::tlsrpt::parse_tlsrpt_record(text);
  std::vector<std::string> records;
  std::size_t start = 0;
  for (std::size_t i = 0; i <= text.size(); ++i) {
    if (i == text.size() || text[i] == '\0') {
      records.emplace_back(text.substr(start, i - start));
      start = i + 1;
    }
  }
  (void)mailtls::tlsrpt::parse_tlsrpt_rrset(records);
  return 0;
}
