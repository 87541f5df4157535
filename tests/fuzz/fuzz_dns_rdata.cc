// The RDATA decoders on a fabricated Answer: the input is split into records (a 1-byte length
// prefix each) and handed to every decode_* as if libunbound had returned it.
#include <cstddef>
#include <cstdint>
#include <string>

#include "probes/dns/records.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  mailtls::dns::Answer answer;
  answer.qname = "fuzz.example";
  answer.canonical_name = answer.qname;
  answer.outcome = mailtls::dns::Outcome::kData;
  answer.security = mailtls::dns::Security::kSecure;
  std::size_t i = 0;
  while (i < size) {
    const std::size_t len = data[i++];
    const std::size_t take = len < size - i ? len : size - i;
    answer.rdata.emplace_back(reinterpret_cast<const char*>(data + i), take);
    i += take;
  }
  using mailtls::dns::RrType;
  answer.type = RrType::kMx;
  (void)mailtls::dns::decode_mx(answer);
  answer.type = RrType::kTlsa;
  for (const auto& r : mailtls::dns::decode_tlsa(answer).records) (void)r.to_string();
  answer.type = RrType::kTxt;
  (void)mailtls::dns::decode_txt(answer);
  answer.type = RrType::kA;
  (void)mailtls::dns::decode_address(answer);
  answer.type = RrType::kAaaa;
  (void)mailtls::dns::decode_address(answer);
  answer.type = RrType::kCname;
  (void)mailtls::dns::decode_cname(answer);
  return 0;
}
