#include "tests/unit/exporter/scripted_prober.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include "exporter/runtime/domain_history.h"
#include "probes/domain/history_verdicts.h"

namespace mailtls::testing {

void apply_history(domain::DomainReport& r, exporter::StateStore& state, SystemTime now) {
  const auto history = exporter::load_domain_history(state, r.domain, now);
  if (!r.probe_success) return;  // as probe_and_judge(): only complete probes are remembered
  exporter::store_domain_history(state, r.domain, domain::judge_history(r, history, now));
}

void apply_history_read_only(domain::DomainReport& r, const exporter::StateStore& state,
                             SystemTime now) {
  domain::judge_history(r, exporter::load_domain_history(state, r.domain, now), now);
}

std::filesystem::path state_v1_dir(const std::string& name) {
  const auto dir = std::filesystem::path(::testing::TempDir()) / (name + "-" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  std::filesystem::copy_file(std::filesystem::path(MAILTLS_SOURCE_DIR) / "tests/data/state/state-v1.json",
                             dir / "state.json", std::filesystem::copy_options::overwrite_existing);
  return dir;
}

domain::DomainReport sample_report(const std::string& name) {
  using namespace std::chrono;
  domain::DomainReport r;
  r.domain = name;
  r.probe_success = true;
  r.duration_seconds = 0.25;
  r.finished = system_clock::now();
  r.rrsets.push_back({name, "MX", dns::Security::kSecure, dns::Outcome::kData,
                      system_clock::now() + hours(48), ""});
  r.rrsets.push_back({"_25._tcp.mx." + name, "TLSA", dns::Security::kSecure, dns::Outcome::kData,
                      system_clock::now() + hours(48), ""});
  domain::MxReport mx;
  mx.host = "mx." + name;
  mx.preference = 10;
  mx.tlsa_base_domain = mx.host;
  mx.dane_state = dns::DaneApplicability::kDaneAppliesUsable;
  domain::TlsaRecordReport t;
  t.record = {3, 1, 1, std::vector<std::uint8_t>(32, 0xab)};
  t.usable = true;
  mx.tlsa_usable = 1;
  for (const char* addr : {"127.0.1.1", "::1"}) {
    domain::AddressReport a;
    a.address = addr;
    a.family = std::string(addr).find(':') == std::string::npos ? "ipv4" : "ipv6";
    a.connect_ok = a.starttls_offered = a.starttls_ok = true;
    a.phase_seconds = {{"connect", 0.001}, {"banner", 0.002}, {"ehlo", 0.001},
                       {"starttls", 0.001}, {"tls_handshake", 0.004}};
    a.tls_version = "TLSv1.3";
    a.cipher = "TLS_AES_256_GCM_SHA384";
    a.leaf = domain::CertificateSummary{"CN=mx." + name, "CN=Test CA", std::string(64, 'a'),
                                        {"mx." + name}, system_clock::now() - hours(24 * 30),
                                        system_clock::now() + hours(24 * 60)};
    a.pkix_valid = true;
    a.dane_applies = true;
    a.dane_match = true;
    t.matches[addr] = true;
    mx.addresses.push_back(a);
  }
  mx.tlsa.push_back(t);
  mx.mtasts_covered = true;
  r.mx.push_back(mx);
  r.dane_status = dane::DaneStatus::kValid;
  r.mtasts.checked = r.tlsrpt.checked = true;
  r.mtasts.txt_present = r.mtasts.txt_valid = true;
  r.mtasts.txt_id = "20240101";
  r.mtasts.fetch_attempted = r.mtasts.fetch_ok = r.mtasts.policy_valid = true;
  r.mtasts.mode = mtasts::StsMode::kEnforce;
  r.mtasts.max_age = 604800;
  r.mtasts.body_sha256 = std::string(64, 'c');
  r.mtasts.policy_cert_not_after = system_clock::now() + hours(24 * 80);
  r.mtasts.status = mtasts::MtaStsStatus::kEnforced;
  r.tlsrpt.present = r.tlsrpt.valid = true;
  r.tlsrpt.rua = {"mailto:tlsrpt@" + name};
  r.log = {"looked up MX for " + name, "all good"};
  return r;
}

}  // namespace mailtls::testing
