#include "tests/unit/exporter/golden_reports.h"

#include <chrono>

#include "probes/domain/no_verdict.h"

namespace mailtls::testing {
namespace {

using namespace std::chrono;
using domain::AddressReport;
using domain::DomainReport;
using domain::MxReport;
using domain::TlsaRecordReport;

SystemTime at(hours offset) { return golden_now() + offset; }
constexpr hours kDay{24};

domain::RrsetStatus rrset(const std::string& name, const std::string& type, dns::Security s,
                          std::optional<SystemTime> expiry = std::nullopt, std::string reason = "") {
  return {name, type, s, dns::Outcome::kData, expiry, std::move(reason)};
}

// An address where STARTTLS and the handshake worked, with a certificate for `host`.
AddressReport tls_address(const std::string& address, const std::string& host) {
  AddressReport a;
  a.address = address;
  a.family = address.find(':') == std::string::npos ? "ipv4" : "ipv6";
  a.connect_ok = a.starttls_offered = a.starttls_ok = true;
  a.phase_seconds = {{"connect", 0.001}, {"banner", 0.0025}, {"ehlo", 0.00125},
                     {"starttls", 0.0005}, {"tls_handshake", 0.004}};
  a.tls_version = "TLSv1.3";
  a.cipher = "TLS_AES_256_GCM_SHA384";
  a.leaf = domain::CertificateSummary{"CN=" + host, "CN=World Test CA", std::string(64, 'e'),
                                      {host}, at(-30 * kDay), at(60 * kDay)};
  a.pkix_valid = true;
  return a;
}

TlsaRecordReport tlsa(std::uint8_t usage, std::uint8_t byte, bool usable = true) {
  TlsaRecordReport t;
  t.record = {usage, 1, 1, std::vector<std::uint8_t>(32, byte)};
  t.usable = usable;
  return t;
}

// DANE applies at every address of `mx` and the first record matches there.
void dane_matches(MxReport& mx) {
  for (auto& a : mx.addresses) {
    a.dane_applies = a.dane_match = true;
    mx.tlsa[0].matches[a.address] = true;
    for (size_t k = 1; k < mx.tlsa.size(); ++k) mx.tlsa[k].matches[a.address] = false;
  }
}

void tlsrpt_valid(DomainReport& r) {
  r.tlsrpt.checked = r.tlsrpt.present = r.tlsrpt.valid = true;
  r.tlsrpt.rua = {"mailto:tlsrpt@" + r.domain};
}

void mtasts_policy(DomainReport& r, mtasts::StsMode mode, mtasts::MtaStsStatus status) {
  auto& m = r.mtasts;
  m.checked = m.txt_present = m.txt_valid = true;
  m.txt_id = "20260101T000000";
  m.fetch_attempted = m.fetch_ok = m.policy_valid = true;
  m.mode = mode;
  m.max_age = 604800;
  m.mx_patterns = {"mx." + r.domain, "*.backup." + r.domain};
  m.body_sha256 = std::string(64, 'c');
  m.policy_cert_not_after = at(80 * kDay);
  m.id_last_change = at(-10 * kDay);
  m.status = status;
}

DomainReport base(const std::string& name) {
  DomainReport r;
  r.domain = name;
  r.probe_success = true;
  r.duration_seconds = 0.25;
  r.finished = golden_now();
  r.log = {"MX " + name + ": found", "verdicts follow"};
  return r;
}

MxReport mx_host(const std::string& host, std::uint16_t preference, dns::DaneApplicability state) {
  MxReport mx;
  mx.host = host;
  mx.preference = preference;
  mx.dane_state = state;
  if (state == dns::DaneApplicability::kDaneAppliesUsable) mx.tlsa_base_domain = host;
  return mx;
}

// A domain in an unsigned zone with one MX host doing STARTTLS at `address`, without DANE.
DomainReport insecure_domain(const std::string& name, const std::string& address) {
  auto r = base(name);
  r.rrsets = {rrset(r.domain, "MX", dns::Security::kInsecure)};
  auto mx = mx_host("mx." + name, 10, dns::DaneApplicability::kNotApplicableNoTlsa);
  mx.addresses = {tls_address(address, mx.host)};
  r.mx = {mx};
  r.dane_status = dane::DaneStatus::kNotDeployed;
  return r;
}

DomainReport dane_good(const std::string& name = "dane-good.example") {
  auto r = base(name);
  r.rrsets = {rrset(r.domain, "MX", dns::Security::kSecure, at(48h)),
              rrset("_25._tcp.mx." + name, "TLSA", dns::Security::kSecure, at(72h))};
  auto mx = mx_host("mx." + name, 10, dns::DaneApplicability::kDaneAppliesUsable);
  mx.tlsa = {tlsa(3, 0xab), tlsa(3, 0xcd)};
  mx.tlsa_usable = 2;
  mx.tlsa_rrset_first_seen = at(-20 * kDay);
  mx.rollover_ready = true;
  mx.rollover_reason = dane::RolloverReadiness::kNextKeyPublished;
  mx.addresses = {tls_address("127.0.2.1", mx.host)};
  dane_matches(mx);
  mx.tlsa[1].stale = true;  // the next key: no chain presented matches it (yet)
  mx.mtasts_covered = true;
  r.mx = {mx};
  r.dane_status = dane::DaneStatus::kValid;
  mtasts_policy(r, mtasts::StsMode::kEnforce, mtasts::MtaStsStatus::kEnforced);
  tlsrpt_valid(r);
  return r;
}

// F1: the certificate was renewed after the TLSA RRset appeared and no record matches it.
DomainReport dane_broken() {
  auto r = base("dane-broken.example");
  r.rrsets = {rrset(r.domain, "MX", dns::Security::kSecure, at(48h)),
              rrset("_25._tcp.mx.dane-broken.example", "TLSA", dns::Security::kSecure, at(72h))};
  auto mx = mx_host("mx.dane-broken.example", 5, dns::DaneApplicability::kDaneAppliesUsable);
  mx.tlsa = {tlsa(3, 0x11), tlsa(0, 0x22, false)};
  mx.tlsa[1].unusable_reason = "pkix_usage";
  mx.tlsa_usable = 1;
  mx.tlsa_rrset_first_seen = at(-90 * kDay);
  mx.rollover_ready = false;
  mx.rollover_reason = dane::RolloverReadiness::kNoCurrentMatch;
  mx.renewed_without_tlsa_update = true;
  auto a = tls_address("127.0.2.2", mx.host);
  a.dane_applies = true;
  a.dane_match = false;
  a.dane_result_type = "tlsa-invalid";
  mx.addresses = {a};
  mx.tlsa[0].matches[a.address] = false;
  mx.tlsa[0].stale = true;  // the old key's record
  mx.stale_groups = {{3, 1, 1}};
  r.mx = {mx};
  r.dane_status = dane::DaneStatus::kBroken;
  r.mtasts.checked = true;  // no _mta-sts record
  r.mtasts.txt_error = "no v=STSv1 TXT record";
  return r;
}

// No TLSA (insecure zone); one address refuses STARTTLS, the other's certificate is for
// another name.
DomainReport dane_none() {
  auto r = base("dane-none.example");
  r.rrsets = {rrset(r.domain, "MX", dns::Security::kInsecure)};
  auto mx = mx_host("mx.dane-none.example", 10, dns::DaneApplicability::kNotApplicableInsecure);
  auto bad_name = tls_address("127.0.2.3", "other.example");
  bad_name.pkix_valid = false;
  bad_name.pkix_result_type = "certificate-host-mismatch";
  AddressReport plain;
  plain.address = "127.0.2.4";
  plain.family = "ipv4";
  plain.connect_ok = true;
  plain.phase_seconds = {{"connect", 0.001}, {"banner", 0.002}, {"ehlo", 0.001}};
  plain.failure_kind = smtp::StarttlsFailure::kStarttlsNotOffered;
  plain.failure = "EHLO reply has no STARTTLS";
  mx.addresses = {bad_name, plain};
  r.mx = {mx};
  r.dane_status = dane::DaneStatus::kNotDeployed;
  r.mtasts.checked = true;
  r.mtasts.txt_error = "no v=STSv1 TXT record";
  r.tlsrpt.checked = true;
  r.tlsrpt.error = "no v=TLSRPTv1 TXT record";
  return r;
}

// F6: the policy content changed and the TXT id did not.
DomainReport sts_enforce() {
  auto r = insecure_domain("sts-enforce.example", "127.0.2.5");
  r.rrsets.push_back(rrset("_mta-sts.sts-enforce.example", "TXT", dns::Security::kInsecure));
  r.mx[0].mtasts_covered = true;
  mtasts_policy(r, mtasts::StsMode::kEnforce, mtasts::MtaStsStatus::kEnforced);
  r.mtasts.changed_without_id_change = true;
  r.mtasts.warnings = {"max_age below one week"};
  tlsrpt_valid(r);
  return r;
}

DomainReport sts_broken() {
  auto r = insecure_domain("sts-broken.example", "127.0.2.6");
  auto& m = r.mtasts;
  m.checked = m.txt_present = m.txt_valid = true;
  m.txt_id = "v2";
  m.fetch_attempted = true;
  m.fetch_error = "certificate of mta-sts.sts-broken.example has expired";
  m.fetch_result_type = "sts-webpki-invalid";
  m.id_last_change = at(-3 * kDay);
  m.status = mtasts::MtaStsStatus::kBroken;
  r.tlsrpt.checked = r.tlsrpt.present = true;
  r.tlsrpt.error = "rua: not a mailto: or https: URI";
  return r;
}

// Two MX hosts with IPv4 and IPv6: DANE at the first only (partial), MTA-STS testing with
// the second not covered by the policy.
DomainReport multi_mx() {
  auto r = base("multi-mx.example");
  r.duration_seconds = 1.5;
  r.rrsets = {rrset(r.domain, "MX", dns::Security::kSecure, at(48h)),
              rrset("mx1.multi-mx.example", "A", dns::Security::kSecure, at(48h)),
              rrset("mx1.multi-mx.example", "AAAA", dns::Security::kSecure, at(48h)),
              rrset("_25._tcp.mx1.multi-mx.example", "TLSA", dns::Security::kSecure, at(72h)),
              rrset("mx2.other-provider.example", "A", dns::Security::kInsecure)};
  auto mx1 = mx_host("mx1.multi-mx.example", 10, dns::DaneApplicability::kDaneAppliesUsable);
  mx1.tlsa = {tlsa(2, 0x33)};
  mx1.tlsa_usable = 1;
  mx1.tlsa_rrset_first_seen = at(-40 * kDay);
  mx1.rollover_ready = true;
  mx1.rollover_reason = dane::RolloverReadiness::kTrustAnchorMatches;
  mx1.addresses = {tls_address("127.0.2.7", mx1.host), tls_address("::1", mx1.host)};
  mx1.addresses[1].tls_version = "TLSv1.2";
  mx1.addresses[1].cipher = "ECDHE-RSA-AES256-GCM-SHA384";
  dane_matches(mx1);
  mx1.mtasts_covered = true;
  auto mx2 = mx_host("mx2.other-provider.example", 20, dns::DaneApplicability::kNotApplicableInsecure);
  mx2.addresses = {tls_address("127.0.2.8", mx2.host), tls_address("::2", mx2.host)};
  mx2.mtasts_covered = false;
  r.mx = {mx1, mx2};
  r.dane_status = dane::DaneStatus::kValid;
  r.dane_partial = true;
  mtasts_policy(r, mtasts::StsMode::kTesting, mtasts::MtaStsStatus::kTesting);
  r.mtasts.mx_patterns = {"mx1.multi-mx.example"};
  r.mtasts.warnings = {"mx2.other-provider.example is not covered by the policy"};
  tlsrpt_valid(r);
  return r;
}

DomainReport null_mx() {
  auto r = base("null-mx.example");
  r.rrsets = {rrset(r.domain, "MX", dns::Security::kSecure, at(48h))};
  r.mx_null = true;
  r.dane_status = dane::DaneStatus::kNotDeployed;
  return r;
}

// The probe ran out of time: no verdict (MTA-STS and TLS-RPT cut off too).
DomainReport timeout() {
  auto r = base("timeout.example");
  r.duration_seconds = 10;
  r.rrsets = {rrset(r.domain, "MX", dns::Security::kSecure, at(48h))};
  auto mx = mx_host("mx.timeout.example", 10, dns::DaneApplicability::kLookupFailed);
  AddressReport a;
  a.address = "127.0.2.9";
  a.family = "ipv4";
  a.failure_kind = smtp::StarttlsFailure::kConnectTimeout;
  a.failure = "connect timed out";
  mx.addresses = {a};
  r.mx = {mx};
  r.mtasts.checked = true;
  r.mtasts.timed_out = true;
  r.mtasts.status = domain::NoVerdictReason::kTimeout;
  r.tlsrpt.checked = true;
  r.tlsrpt.timed_out = true;
  r.tlsrpt.error = "not checked: timeout";
  domain::mark_no_verdict(r, domain::NoVerdictReason::kTimeout,
                          "the probe did not finish within its timeout");
  return r;
}

}  // namespace

SystemTime golden_now() { return sys_days{year{2026} / March / 1}; }

DomainReport golden_no_verdict_previous_report() {
  auto r = dane_good("no-verdict.example");
  r.finished = at(-1h);
  return r;
}

DomainReport golden_healthy_single_mx_report() {
  auto r = base("healthy-single-mx.example");
  const std::string mx_name = "mx.healthy-single-mx.example";
  r.rrsets = {rrset(r.domain, "MX", dns::Security::kSecure, at(96h)),
              rrset(mx_name, "A", dns::Security::kSecure, at(60h)),
              rrset(mx_name, "AAAA", dns::Security::kSecure, at(60h)),
              rrset("_25._tcp." + mx_name, "TLSA", dns::Security::kSecure, at(72h)),
              rrset("_mta-sts." + r.domain, "TXT", dns::Security::kSecure, at(90h)),
              rrset("_smtp._tls." + r.domain, "TXT", dns::Security::kSecure, at(90h))};
  auto mx = mx_host(mx_name, 10, dns::DaneApplicability::kDaneAppliesUsable);
  mx.tlsa = {tlsa(3, 0xab), tlsa(3, 0xcd)};
  mx.tlsa_usable = 2;
  mx.tlsa_rrset_first_seen = at(-20 * kDay);
  mx.tlsa_original_ttl = 3600;
  mx.rollover_ready = true;
  mx.rollover_reason = dane::RolloverReadiness::kNextKeyPublished;
  mx.rollover_phase = dane::RolloverPhase::kSteady;
  mx.addresses = {tls_address("127.0.2.10", mx.host), tls_address("::10", mx.host)};
  for (auto& a : mx.addresses) {
    a.key_type = "ecdsa";
    a.other_key_type_offer = "not_offered";
    a.key_types = {{"ecdsa", true, "", std::string(64, 'e')}};
  }
  dane_matches(mx);
  mx.mtasts_covered = true;
  r.mx = {mx};
  r.dane_status = dane::DaneStatus::kValid;
  mtasts_policy(r, mtasts::StsMode::kEnforce, mtasts::MtaStsStatus::kEnforced);
  r.mtasts.sender_cache_status = mtasts::SenderCacheStatus::kEnforceCached;
  r.mtasts.cached_enforce_expiry = at(7 * kDay);
  tlsrpt_valid(r);
  return r;
}

DomainReport golden_no_verdict_report() {
  auto r = golden_no_verdict_previous_report();
  r.finished = golden_now();
  r.rrsets[0].security = dns::Security::kBogus;
  r.rrsets[0].reason = "validation failure <no-verdict.example. MX IN>";
  r.dane_status = dane::DaneStatus::kBogus;
  r.mtasts.status = mtasts::MtaStsStatus::kBroken;
  domain::mark_no_verdict(r, domain::NoVerdictReason::kResolverNotValidating,
                          "resolver not validating: signed.test A: bogus");
  return r;
}

std::vector<DomainReport> golden_reports() {
  return {dane_good(), dane_broken(), dane_none(),   sts_enforce(),
          sts_broken(), multi_mx(),   null_mx(),     timeout(),
          golden_no_verdict_report()};
}

}  // namespace mailtls::testing
