#pragma once
// docs/verdicts.md W1: the fixed P-256 test keys and their published digests, and a CA and
// leaf certificate carrying those keys (made in-process with tests/fakes/test_certs, then
// re-keyed), so the W4 table can be replayed with the exact vectors.

#include <string>
#include <vector>

#include "probes/dns/records.h"
#include "probes/tls/openssl_ptr.h"
#include "tests/fakes/test_certs.h"

namespace mailtls::dane::testing {

inline constexpr const char* kW1LeafKeyPem =
    "-----BEGIN PRIVATE KEY-----\n"
    "MIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQgKAVU7LTgKXEcdrv4\n"
    "novjC/Hn/+RSFVYmzyeiqf5PCjChRANCAAQqBbAClGwUUg70BNY/EyHsP4G7zeiz\n"
    "rO1lCTdacfTCaAYlrtUOwIG/YsJks/NtyLv92yUGCsSS7zcouzGsuQpM\n"
    "-----END PRIVATE KEY-----\n";
inline constexpr const char* kW1CaKeyPem =
    "-----BEGIN PRIVATE KEY-----\n"
    "MIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQg1e76WXGYfRdJRIHH\n"
    "F/Z3RVy7uhd53w5h/8pz0FGwjgyhRANCAASp3DuOkC0OOFstYqyp+oH4+16TYk7P\n"
    "ExqOQe+8EUZtJI+a8NzT7lV7ommGBo013/3sEEcUoKDXieeSKVCujZjr\n"
    "-----END PRIVATE KEY-----\n";

inline constexpr const char* kW1Leaf311 = "000c701618c4d3b00f049424c49cb81c5ce2f78c164ca8c7dac46c360e994ee3";
inline constexpr const char* kW1Leaf312 =
    "ea68c3e26e1e21cf8651ff0e2d4ff32d9090627b78be25922bc4fdd5f5dcab792d7c56b20611fdb4661ad3d7e041032d130c7ca9dd2e0fac88a6f54e4df40edb";
inline constexpr const char* kW1Leaf310 =
    "3059301306072a8648ce3d020106082a8648ce3d030107034200042a05b002946c14520ef404d63f1321ec3f81bbcde8b3aced6509375a71f4c2680625aed50ec081bf62c264b3f36dc8bbfddb25060ac492ef3728bb31acb90a4c";
inline constexpr const char* kW1Ca211 = "1a762d6d61d8bb6dd8682de05c1941346924c7fa42391ff6ab12364bcab16de1";
inline constexpr const char* kZeros32 = "0000000000000000000000000000000000000000000000000000000000000000";

EvpPkeyPtr load_private_key_pem(const std::string& pem);

// "Example Test CA" with the W1 CA key (self-signed, valid now).
mailtls::testing::TestCert make_w1_ca();
// A leaf with the W1 leaf key, signed by `ca` (whose key must be its private key).
mailtls::testing::TestCert make_w1_leaf(const mailtls::testing::TestCert& ca,
                                        const mailtls::testing::TestCertSpec& spec);
// Replaces the public key of `cert` and re-signs it with `signer`.
void rekey(mailtls::testing::TestCert& cert, EvpPkeyPtr key, EVP_PKEY* signer);

// A record from presentation text; the test fails loudly when the text does not parse.
dns::TlsaRecord tlsa(const std::string& presentation);

}  // namespace mailtls::dane::testing
