#pragma once
// Certificates travel between probes as DER bytes: the SMTP probe keeps the chain as presented
// (leaf first), the WebPKI verifier and the DANE matcher read it. Plain data, no OpenSSL types.

#include <cstdint>
#include <vector>

namespace mailtls::tls {

using DerBytes = std::vector<std::uint8_t>;
using DerChain = std::vector<DerBytes>;  // leaf first, in the order the peer presented it

}  // namespace mailtls::tls
