// The exporter-toolkit style web configuration loader (--web.config.file).
#include <cstddef>
#include <cstdint>
#include <string>

#include "exporter/config/web_config.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string text(reinterpret_cast<const char*>(data), size);
  (void)mailtls::exporter::load_web_config_text(text, "fuzz-web.yaml");
  return 0;
}
