#include "tests/unit/dane/w1_fixtures.h"

#include <openssl/pem.h>

#include <stdexcept>

#include "probes/dane/tlsa_presentation.h"

namespace mailtls::dane::testing {

using mailtls::testing::TestCert;
using mailtls::testing::TestCertSpec;

EvpPkeyPtr load_private_key_pem(const std::string& pem) {
  BioPtr bio(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
  EvpPkeyPtr key(PEM_read_bio_PrivateKey(bio.get(), nullptr, nullptr, nullptr));
  if (!key) throw std::runtime_error("cannot read test key");
  return key;
}

void rekey(TestCert& cert, EvpPkeyPtr key, EVP_PKEY* signer) {
  if (X509_set_pubkey(cert.cert.get(), key.get()) != 1) throw std::runtime_error("X509_set_pubkey");
  if (X509_sign(cert.cert.get(), signer, EVP_sha256()) <= 0) throw std::runtime_error("X509_sign");
  cert.key = std::move(key);
}

TestCert make_w1_ca() {
  TestCert ca = mailtls::testing::make_test_ca("Example Test CA");
  EvpPkeyPtr key = load_private_key_pem(kW1CaKeyPem);
  EVP_PKEY* signer = key.get();
  rekey(ca, std::move(key), signer);
  return ca;
}

TestCert make_w1_leaf(const TestCert& ca, const TestCertSpec& spec) {
  TestCert leaf = mailtls::testing::make_test_leaf(spec, ca);
  rekey(leaf, load_private_key_pem(kW1LeafKeyPem), ca.key.get());
  return leaf;
}

dns::TlsaRecord tlsa(const std::string& presentation) {
  auto parsed = parse_tlsa_presentation(presentation);
  if (!parsed) throw std::runtime_error("bad TLSA in test: " + presentation + ": " + parsed.error());
  return *parsed;
}

}  // namespace mailtls::dane::testing
