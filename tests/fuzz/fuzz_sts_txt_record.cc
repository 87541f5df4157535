// MTA-STS TXT record: the single-record parser on the whole input, and the RRset selection rule
// on the input split into records at NUL bytes (a TXT RRset from DNS can hold any bytes).
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "probes/mtasts/sts_txt_record.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  (void)mailtls::mtasts::parse_sts_txt_record(text);
  std::vector<std::string> records;
  std::size_t start = 0;
  for (std::size_t i = 0; i <= text.size(); ++i) {
    if (i == text.size() || text[i] == '\0') {
      records.emplace_back(text.substr(start, i - start));
      start = i + 1;
    }
  }
  (void)mailtls::mtasts::select_sts_txt_record(records);
  return 0;
}
