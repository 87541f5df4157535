#pragma once
// Bytes a peer controls (an MX target's labels, an SMTP reply, a TXT record, a certificate
// subject, a log line) carried through the DNS name decoder into every renderer: /metrics
// text, `check --output=json`, `check` text. Shared by the fuzz target fuzz_peer_text and the
// CTest replay of its corpus (tests/robustness/peer_text_regression_test.cc), so an input the
// fuzzer found keeps being checked without clang.
//
// Input: fields with a 1-byte length prefix each: [0] MX target in wire form, [1] SMTP
// failure text, [2] TXT record text, [3] certificate subject, [4] a log line.

#include <nlohmann/json.hpp>

#include <string>
#include <string_view>
#include <vector>

#include "exporter/cli/check_report.h"
#include "exporter/exposition/domain_metrics.h"
#include "exporter/exposition/metrics_text.h"
#include "probes/base/printable_text.h"
#include "probes/dns/dns_name.h"
#include "probes/dns/records.h"
#include "probes/domain/domain_report.h"

namespace mailtls::fuzzing {

inline std::vector<std::string> split_fields(std::string_view input, std::size_t max_fields) {
  std::vector<std::string> out;
  std::size_t i = 0;
  while (i < input.size() && out.size() < max_fields) {
    const std::size_t len = static_cast<unsigned char>(input[i++]);
    const std::size_t take = len < input.size() - i ? len : input.size() - i;
    out.emplace_back(input.substr(i, take));
    i += take;
  }
  out.resize(max_fields);
  return out;
}

// Only '\n' ending lines; no other C0 control, no DEL; valid UTF-8.
inline bool terminal_safe(std::string_view s) {
  if (!is_valid_utf8(s)) return false;
  for (char c : s) {
    const auto u = static_cast<unsigned char>(c);
    if ((u < 0x20 && c != '\n') || u == 0x7f) return false;
  }
  return true;
}

// What went wrong, or "" when every renderer coped.
inline std::string check_peer_text(std::string_view input) {
  const auto f = split_fields(input, 5);
  dns::Answer answer;
  answer.qname = "fuzz.example";
  answer.canonical_name = answer.qname;
  answer.type = dns::RrType::kMx;
  answer.outcome = dns::Outcome::kData;
  answer.security = dns::Security::kSecure;
  answer.rdata = {std::string("\x00\x0a", 2) + f[0]};
  const auto decoded = dns::decode_mx(answer);

  domain::DomainReport r;
  r.domain = "fuzz.example";
  r.probe_success = true;
  // A decoded name must be printable and go back to the same wire name (lower case).
  std::vector<std::string> hosts;
  for (const auto& mx : decoded.records) {
    if (!is_printable_text(mx.host)) return "decoded MX host is not printable";
    const auto wire = dns::presentation_to_wire(mx.host);
    if (!wire) return "decoded MX host does not convert back to wire form";
    dns::Answer round_trip = answer;
    round_trip.rdata = {std::string("\x00\x0a", 2) + *wire};
    const auto again = dns::decode_mx(round_trip);
    if (again.records.size() != 1 || again.records[0].host != mx.host) {
      return "MX host does not round-trip";
    }
    hosts.push_back(mx.host);
  }
  hosts.push_back(f[0]);  // raw bytes too, as a prober that does not decode might pass them
  for (const auto& h : hosts) {
    r.rrsets.push_back({h, "MX", dns::Security::kSecure, dns::Outcome::kData, {}, f[2]});
    domain::MxReport m;
    m.host = h;
    m.tlsa_base_domain = h;
    m.dane_state = "usable";
    domain::TlsaRecordReport t;
    t.record = {3, 1, 1, {1, 2, 3}};
    t.usable = true;
    domain::AddressReport a;
    a.address = "192.0.2.1";
    a.failure = f[1];
    a.tls_version = f[3];
    a.leaf = domain::CertificateSummary{f[3], f[4], "00", {f[3]}, {}, {}};
    a.pkix_valid = false;
    a.pkix_result_type = f[1];
    t.matches[a.address] = false;
    m.tlsa.push_back(t);
    m.addresses.push_back(a);
    r.mx.push_back(m);
  }
  r.mtasts.checked = r.tlsrpt.checked = true;
  r.mtasts.txt_present = true;
  r.mtasts.txt_error = f[2];
  r.mtasts.txt_id = f[2];
  r.mtasts.policy_valid = true;
  r.mtasts.mx_patterns = {f[2]};
  r.tlsrpt.present = true;
  r.tlsrpt.error = f[2];
  r.tlsrpt.rua = {f[2]};
  r.log = {f[4], "MX host " + f[0]};

  // The renderers on the report as it is (each has its own defence) ...
  const std::string raw_metrics = exporter::render_metrics_families(exporter::domain_metrics(r));
  if (!is_valid_utf8(raw_metrics)) return "metrics of the raw report are not UTF-8";
  std::string json;
  try {
    // The resolver's self-test reason quotes DNS answers too.
    domain::ResolverSelfTestState resolver;
    resolver.validation = domain::ResolverValidation::kNotValidating;
    resolver.reason = f[4];
    json = exporter::format_check_json({r}, resolver);
    (void)nlohmann::json::parse(json);
  } catch (const std::exception& e) {
    return std::string("check JSON: ") + e.what();
  }
  if (!terminal_safe(exporter::format_check_text(r, false, std::chrono::system_clock::now()))) return "check text is not terminal-safe";
  // ... and after make_printable: only printable text left, idempotently.
  domain::make_printable(r);
  for (const auto& line : r.log) {
    if (!is_printable_text(line)) return "a log line is not printable after make_printable";
  }
  domain::DomainReport twice = r;
  domain::make_printable(twice);
  if (twice.log != r.log || twice.mx.size() != r.mx.size() || twice.mx[0].host != r.mx[0].host) {
    return "make_printable is not idempotent";
  }
  if (!terminal_safe(exporter::render_metrics_families(exporter::domain_metrics(r)))) {
    return "metrics of the printable report hold control bytes";
  }
  return "";
}

}  // namespace mailtls::fuzzing
