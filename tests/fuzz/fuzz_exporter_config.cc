// The exporter's YAML configuration loader (operator input, but a typo must never crash it).
#include <cstddef>
#include <cstdint>
#include <string>

#include "exporter/config/config.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string text(reinterpret_cast<const char*>(data), size);
  (void)mailtls::exporter::load_config_text(text, "fuzz.yaml");
  (void)mailtls::exporter::parse_duration(text);
  std::string error;
  (void)mailtls::exporter::normalize_domain_name(text, &error);
  return 0;
}
