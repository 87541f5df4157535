#include "probes/domain/observe.h"

#include <thread>

#include "probes/base/special_address.h"
#include "probes/dns/dns_name.h"
#include "probes/smtp/address_fanout.h"
#include "probes/smtp/key_type_answers.h"
#include "probes/smtp/other_key_type_probe.h"

namespace mailtls::domain {
namespace {

// A probe cut off by the deadline in a phase the deadline bounds: its outcome is unknown.
bool cut_off(const smtp::StarttlsResult& s) {
  switch (s.failure) {
    case smtp::StarttlsFailure::kConnectTimeout:
    case smtp::StarttlsFailure::kBannerTimeout:
    case smtp::StarttlsFailure::kTimeout: return true;
    default: return false;
  }
}

// SNI is the TLSA base domain when DANE applies (RFC 7672 §8.1), else the MX host. A name that
// is no host name (octets other than letters, digits, '-', '_' in its labels) cannot be a TLS
// server name (RFC 6066 §3): none is sent.
std::string sni_name(const dns::TlsaBaseDomainResult& h) {
  std::string sni = h.base_domain.empty() ? h.host : h.base_domain;
  if (!dns::is_host_name(sni)) sni.clear();
  return sni;
}

// The addresses to probe, each with the target it is probed as.
struct Probed {
  AddressObservation* address;
  smtp::StarttlsTarget target;
};

// Where a key-type-limited answer is kept: the endpoint and the key type asked.
smtp::ObservationKey limited_key(const smtp::StarttlsTarget& t, const DomainProbeSeams& seams) {
  return {t.ip, seams.starttls.settings().port, t.sni_name,
          t.only ? std::string(tls::to_string(*t.only)) : std::string()};
}

}  // namespace

DomainObservation observe_domain(const std::string& domain, const DomainProbeSettings& settings,
                                 const DomainProbeSeams& seams) {
  const auto started = std::chrono::steady_clock::now();
  const Deadline deadline = Deadline::after(settings.timeout);
  DomainObservation o;
  o.domain = domain;
  o.check_dane = settings.check_dane;
  o.check_mtasts = settings.check_mtasts;
  o.check_tlsrpt = settings.check_tlsrpt;
  const smtp::ObservationSharing sharing{seams.observations, settings.observation_max_age, domain};

  // 5., 6. MTA-STS and TLS-RPT need only the domain name: looked up beside steps 1-4, so a
  // stalling MX cannot use up their share of the deadline (robustness finding R2).
  std::jthread policy_thread;
  if (settings.check_mtasts || settings.check_tlsrpt) {
    policy_thread = std::jthread([&o, &domain, &settings, &seams, deadline] {
      o.policies = lookup_policies(domain, settings.check_mtasts, settings.check_tlsrpt,
                                   seams.resolver, seams.policy_fetcher, deadline);
    });
  }

  // 1. MX (RFC 7672 §2.2.1; no MX: the domain itself, RFC 5321 §5.1).
  o.mx = dns::resolve_mx(seams.resolver, domain, deadline);

  // 2. Per MX host: addresses first, then TLSA at the base domain (RFC 7672 §2.2.2).
  for (const auto& rec : o.mx.hosts) {
    if (deadline.expired()) {
      o.hosts_not_looked_up.push_back(rec.host);
      continue;
    }
    MxHostObservation h;
    h.mx = rec;
    h.lookup = dns::find_tlsa_base_domain(seams.resolver, rec.host, deadline, settings.smtp_port);
    for (const auto& addr : h.lookup.addresses) {
      AddressObservation a;
      a.address = addr;
      a.skipped_special_purpose = !settings.probe_special_addresses && is_special_purpose_address(addr.ip);
      h.addresses.push_back(std::move(a));
    }
    o.hosts.push_back(std::move(h));
  }

  // 3. STARTTLS at every address of every MX host, all at once, within the deadline.
  std::vector<Probed> probed;
  for (auto& h : o.hosts) {
    const std::string sni = sni_name(h.lookup);
    for (auto& a : h.addresses) {
      if (!a.skipped_special_purpose) probed.push_back({&a, {a.address.ip, sni}});
    }
  }
  std::vector<smtp::StarttlsTarget> targets;
  for (const auto& p : probed) targets.push_back(p.target);
  auto results = smtp::probe_addresses(seams.starttls, targets, deadline,
                                       smtp::kDefaultMaxParallelProbes, sharing);
  const bool smtp_cut_off = deadline.expired();
  for (size_t t = 0; t < results.size() && t < probed.size(); ++t) {
    probed[t].address->starttls = std::move(results[t]);
    probed[t].address->cut_off = smtp_cut_off && cut_off(probed[t].address->starttls);
  }

  // The WebPKI check of each chain for its MX host name, what an MTA-STS sender does. Made
  // once per shared observation and MX host name (kept with the chain, chain_memo.h), not once
  // per domain: a hosting provider's domains share both.
  const SystemTime now = seams.clock.now();
  for (auto& h : o.hosts) {
    if (!dns::is_host_name(h.mx.host)) continue;  // judged a host mismatch without asking
    for (auto& a : h.addresses) {
      if (!a.starttls.chain.empty()) a.webpki = seams.webpki.verify_once(a.starttls.chain, h.mx.host, now);
    }
  }

  // 3b. Every key type (T14): where DANE applies with usable records, one more handshake per
  // address limited to the key type the first did not present. A server with one certificate
  // refuses it, which is "not offered", not a failure. These go through the same observation
  // cache and politeness gate as the first round: domains sharing an MX host share them too.
  if (settings.check_dane) {
    std::vector<Probed> second;
    for (auto& h : o.hosts) {
      if (h.lookup.applicability != dns::DaneApplicability::kDaneAppliesUsable) continue;
      const std::string sni = sni_name(h.lookup);
      for (auto& a : h.addresses) {
        if (a.skipped_special_purpose) continue;
        const auto ask = smtp::other_key_type_to_ask(a.starttls);
        if (!ask) continue;
        // An answer kept from an earlier probe, while the first handshake shows the same chain
        // (key_type_answers.h).
        const smtp::StarttlsTarget target{a.address.ip, sni, *ask};
        auto kept = seams.key_type_answers
                        ? seams.key_type_answers->find(limited_key(target, seams), a.starttls, now)
                        : std::nullopt;
        if (kept) {
          a.other_key_type = std::move(kept->limited);
          a.other_key_type_checked_earlier = kept->checked_at;
        } else {
          second.push_back({&a, target});
        }
      }
    }
    std::vector<smtp::StarttlsTarget> limited_targets;
    for (const auto& p : second) limited_targets.push_back(p.target);
    auto limited = smtp::probe_addresses(seams.starttls, limited_targets, deadline,
                                         smtp::kDefaultMaxParallelProbes, sharing);
    const SystemTime checked = seams.clock.now();
    for (size_t k = 0; k < limited.size() && k < second.size(); ++k) {
      auto& a = *second[k].address;
      if (seams.key_type_answers) {
        seams.key_type_answers->keep(limited_key(second[k].target, seams), a.starttls, limited[k],
                                     checked);
      }
      a.other_key_type = std::move(limited[k]);
    }
  }

  // The lookups end by the deadline, so this join does too.
  if (policy_thread.joinable()) policy_thread.join();
  o.deadline_expired = deadline.expired();
  o.duration_seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  o.finished = seams.clock.now();
  return o;
}

}  // namespace mailtls::domain
