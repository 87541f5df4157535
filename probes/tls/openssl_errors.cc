#include "probes/tls/openssl_errors.h"

#include <openssl/err.h>

namespace mailtls::tls {

std::string drain_openssl_errors() {
  std::string out;
  // Bounded: the queue holds at most ERR_NUM_ERRORS entries, but be explicit anyway.
  for (int i = 0; i < 32; ++i) {
    const unsigned long e = ERR_get_error();
    if (e == 0) break;
    char buf[256];
    ERR_error_string_n(e, buf, sizeof(buf));
    if (!out.empty()) out += "; ";
    out += buf;
  }
  ERR_clear_error();
  return out;
}

}  // namespace mailtls::tls
