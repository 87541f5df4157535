#pragma once
// Probes many SMTP addresses at once, so a domain whose 50 addresses all stall costs one timeout,
// not 50, while the number of threads stays bounded.
//
// Why a bounded pool of worker threads rather than one poll loop over all connections: each
// probe is a short sequential conversation (connect, banner, EHLO, STARTTLS, an OpenSSL
// handshake, EHLO, QUIT) that already waits in poll(2) with its own deadline. Written as straight
// code it stays readable and testable; as one event loop every phase, including OpenSSL's
// WANT_READ/WANT_WRITE, would become a hand-written state machine. The cost of the pool is one
// mostly-idle thread per concurrent probe, capped by max_parallel, which at the scale of one
// domain's MX addresses (a handful, rarely dozens) is small.

#include <cstddef>
#include <optional>
#include <string>
#include <vector>

#include "probes/base/deadline.h"
#include "probes/smtp/starttls_probe.h"

namespace mailtls::smtp {

struct StarttlsTarget {
  std::string ip;        // IP literal
  std::string sni_name;  // the MX host / TLSA base domain
  std::optional<tls::HandshakeKeyType> only = std::nullopt;  // limit the handshake to a key type
};

// Default concurrency: enough that a typical domain never queues, small enough to bound threads.
inline constexpr std::size_t kDefaultMaxParallelProbes = 64;

// Probes every target with `prober` (shared settings and TLS context) within `deadline`, at most
// `max_parallel` at a time (0 means kDefaultMaxParallelProbes). Results come back in the order
// of `targets`. Targets not started before the deadline passes still get a result (a timeout
// in the connect phase), so the output always has one entry per target.
std::vector<StarttlsResult> probe_addresses(const StarttlsProber& prober,
                                            const std::vector<StarttlsTarget>& targets,
                                            Deadline deadline,
                                            std::size_t max_parallel = kDefaultMaxParallelProbes);

}  // namespace mailtls::smtp
