#include "tests/fakes/test_certs.h"

#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>

#include <fstream>
#include <stdexcept>

namespace mailtls::testing {

namespace {

using EvpPkeyCtxPtr = std::unique_ptr<EVP_PKEY_CTX, FnDeleter<EVP_PKEY_CTX_free>>;
using X509ExtensionPtr = std::unique_ptr<X509_EXTENSION, FnDeleter<X509_EXTENSION_free>>;

void check(bool ok, const char* what) {
  if (!ok) throw std::runtime_error(std::string("test certificate: ") + what + " failed");
}

void add_extension(X509* cert, X509* issuer, int nid, const std::string& value) {
  X509V3_CTX ctx;
  X509V3_set_ctx_nodb(&ctx);
  X509V3_set_ctx(&ctx, issuer, cert, nullptr, nullptr, 0);
  X509ExtensionPtr ext(X509V3_EXT_conf_nid(nullptr, &ctx, nid, value.c_str()));
  check(ext != nullptr, "X509V3_EXT_conf_nid");
  check(X509_add_ext(cert, ext.get(), -1) == 1, "X509_add_ext");
}

// Builds and signs; `issuer_cert` null means self-signed with `key`.
TestCert build(const TestCertSpec& spec, const TestCert* issuer) {
  TestCert out;
  out.key = make_test_key(spec.key_type);
  out.cert.reset(X509_new());
  X509* cert = out.cert.get();
  check(cert != nullptr, "X509_new");
  check(X509_set_version(cert, 2) == 1, "X509_set_version");
  check(ASN1_INTEGER_set(X509_get_serialNumber(cert), spec.serial) == 1, "serial");
  check(X509_gmtime_adj(X509_getm_notBefore(cert), static_cast<long>(spec.not_before_offset.count())) != nullptr, "notBefore");
  check(X509_gmtime_adj(X509_getm_notAfter(cert), static_cast<long>(spec.not_after_offset.count())) != nullptr, "notAfter");
  check(X509_set_pubkey(cert, out.key.get()) == 1, "X509_set_pubkey");
  X509_NAME* name = X509_get_subject_name(cert);
  check(X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_UTF8,
                                   reinterpret_cast<const unsigned char*>(spec.common_name.c_str()),
                                   -1, -1, 0) == 1,
        "subject CN");
  X509* issuer_cert = issuer ? issuer->cert.get() : cert;
  EVP_PKEY* signing_key = issuer ? issuer->key.get() : out.key.get();
  check(X509_set_issuer_name(cert, X509_get_subject_name(issuer_cert)) == 1, "issuer name");

  if (spec.is_ca) {
    add_extension(cert, issuer_cert, NID_basic_constraints, "critical,CA:TRUE");
    add_extension(cert, issuer_cert, NID_key_usage, "critical,keyCertSign,cRLSign");
  } else {
    add_extension(cert, issuer_cert, NID_basic_constraints, "critical,CA:FALSE");
    add_extension(cert, issuer_cert, NID_key_usage, "critical,digitalSignature,keyEncipherment");
    if (!spec.extended_key_usage.empty()) {
      add_extension(cert, issuer_cert, NID_ext_key_usage, spec.extended_key_usage);
    }
  }
  add_extension(cert, issuer_cert, NID_subject_key_identifier, "hash");
  if (issuer) add_extension(cert, issuer_cert, NID_authority_key_identifier, "keyid:always");
  if (!spec.dns_names.empty()) {
    std::string san;
    for (const auto& n : spec.dns_names) san += (san.empty() ? "DNS:" : ",DNS:") + n;
    add_extension(cert, issuer_cert, NID_subject_alt_name, san);
  }
  // Ed25519 signs without a separate digest.
  const EVP_MD* md = EVP_PKEY_get_base_id(signing_key) == EVP_PKEY_ED25519 ? nullptr : EVP_sha256();
  check(X509_sign(cert, signing_key, md) > 0, "X509_sign");
  return out;
}

std::string bio_string(BIO* bio) {
  char* data = nullptr;
  const long len = BIO_get_mem_data(bio, &data);
  return len > 0 ? std::string(data, static_cast<std::size_t>(len)) : std::string();
}

}  // namespace

EvpPkeyPtr make_test_key(TestKeyType type) {
  EVP_PKEY* key = nullptr;
  switch (type) {
    case TestKeyType::kEcP256: key = EVP_EC_gen("P-256"); break;
    case TestKeyType::kEcP384: key = EVP_EC_gen("P-384"); break;
    case TestKeyType::kRsa2048: key = EVP_RSA_gen(2048); break;
    case TestKeyType::kEd25519: {
      EvpPkeyCtxPtr ctx(EVP_PKEY_CTX_new_id(EVP_PKEY_ED25519, nullptr));
      check(ctx && EVP_PKEY_keygen_init(ctx.get()) == 1 && EVP_PKEY_keygen(ctx.get(), &key) == 1,
            "Ed25519 keygen");
      break;
    }
  }
  check(key != nullptr, "key generation");
  return EvpPkeyPtr(key);
}

tls::DerBytes TestCert::der() const {
  unsigned char* buf = nullptr;
  const int len = i2d_X509(cert.get(), &buf);
  check(len > 0, "i2d_X509");
  tls::DerBytes out(buf, buf + len);
  OPENSSL_free(buf);
  return out;
}

std::string TestCert::pem() const {
  BioPtr bio(BIO_new(BIO_s_mem()));
  check(bio && PEM_write_bio_X509(bio.get(), cert.get()) == 1, "PEM_write_bio_X509");
  return bio_string(bio.get());
}

std::string TestCert::key_pem() const {
  BioPtr bio(BIO_new(BIO_s_mem()));
  check(bio && PEM_write_bio_PrivateKey(bio.get(), key.get(), nullptr, nullptr, 0, nullptr,
                                        nullptr) == 1,
        "PEM_write_bio_PrivateKey");
  return bio_string(bio.get());
}

TestCert make_test_ca(const std::string& common_name, TestCertSpec spec) {
  spec.common_name = common_name;
  spec.is_ca = true;
  if (spec.not_after_offset == TestCertSpec{}.not_after_offset) {
    spec.not_after_offset = std::chrono::hours(24 * 3650);
  }
  return build(spec, nullptr);
}

TestCert make_test_leaf(const TestCertSpec& spec, const TestCert& issuer) {
  return build(spec, &issuer);
}

TestCert make_test_self_signed(const TestCertSpec& spec) { return build(spec, nullptr); }

void write_text_file(const std::string& path, const std::string& text) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << text;
  if (!out) throw std::runtime_error("cannot write " + path);
}

}  // namespace mailtls::testing
