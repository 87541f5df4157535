#pragma once
// Probe settings for the loopback test servers: every phase capped at 2 s.

#include <chrono>
#include <cstdint>

#include "probes/smtp/starttls_probe.h"

namespace mailtls::testing {

inline smtp::StarttlsSettings loopback_probe_settings(std::uint16_t port) {
  smtp::StarttlsSettings s;
  s.ehlo_name = "probe.test";
  s.port = port;
  s.connect_timeout = std::chrono::seconds(2);
  s.banner_timeout = std::chrono::seconds(2);
  s.ehlo_timeout = std::chrono::seconds(2);
  s.starttls_timeout = std::chrono::seconds(2);
  s.tls_handshake_timeout = std::chrono::seconds(2);
  return s;
}

}  // namespace mailtls::testing
