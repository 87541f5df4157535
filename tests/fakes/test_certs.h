#pragma once
// Certificates made in-process for tests: a CA, leaves with chosen SANs, validity and key type,
// expired or self-signed ones. Shared by every test that needs a chain (smtp, tls, dane, mtasts).
//   TestCert ca = make_test_ca("Test Root");
//   TestCert leaf = make_test_leaf({.common_name = "mx1.example.com",
//                                   .dns_names = {"mx1.example.com"}}, ca);
//   tls::DerChain chain = {leaf.der(), ca.der()};

#include <chrono>
#include <string>
#include <vector>

#include "probes/base/clock.h"
#include "probes/tls/der_chain.h"
#include "probes/tls/openssl_ptr.h"

namespace mailtls::testing {

enum class TestKeyType { kEcP256, kEcP384, kRsa2048, kEd25519 };

struct TestCertSpec {
  std::string common_name = "test";
  std::vector<std::string> dns_names = {};  // SAN dNSName entries; none: no SAN extension
  // Validity relative to now (negative = in the past).
  std::chrono::seconds not_before_offset = -std::chrono::hours(24);
  std::chrono::seconds not_after_offset = std::chrono::hours(24 * 90);
  TestKeyType key_type = TestKeyType::kEcP256;
  long serial = 1;
  bool is_ca = false;
  std::string extended_key_usage = "serverAuth";  // on leaves; "" for none
};

struct TestCert {
  X509Ptr cert;
  EvpPkeyPtr key;
  tls::DerBytes der() const;
  std::string pem() const;      // the certificate
  std::string key_pem() const;  // the private key, PKCS#8
};

// A fresh key of the given type.
EvpPkeyPtr make_test_key(TestKeyType type);

// A self-signed CA (basicConstraints CA:TRUE, keyCertSign).
TestCert make_test_ca(const std::string& common_name, TestCertSpec spec = {});
// A certificate signed by `issuer` (which may itself be an intermediate made with is_ca).
TestCert make_test_leaf(const TestCertSpec& spec, const TestCert& issuer);
// A self-signed leaf (not a CA): what a backup MX with a snake-oil certificate presents.
TestCert make_test_self_signed(const TestCertSpec& spec);

// Writes text to a file (for tools that want PEM files); throws on failure.
void write_text_file(const std::string& path, const std::string& text);

}  // namespace mailtls::testing
