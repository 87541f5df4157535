#include "probes/dane/tlsa_association.h"

#include <openssl/evp.h>
#include <openssl/x509.h>

#include "probes/tls/certificate.h"

namespace mailtls::dane {
namespace {

Bytes take_openssl_buffer(unsigned char* buf, int n) {
  Bytes out;
  if (n > 0 && buf != nullptr) out.assign(buf, buf + n);
  OPENSSL_free(buf);
  return out;
}

}  // namespace

Bytes selected_content(X509* cert, std::uint8_t selector) {
  unsigned char* buf = nullptr;
  switch (selector) {
    case 0: {
      int n = i2d_X509(cert, &buf);
      return take_openssl_buffer(buf, n);
    }
    case 1: {
      int n = i2d_X509_PUBKEY(X509_get_X509_PUBKEY(cert), &buf);
      return take_openssl_buffer(buf, n);
    }
    default: return {};
  }
}

Bytes association_data(std::span<const std::uint8_t> content, std::uint8_t matching_type) {
  const EVP_MD* md = nullptr;
  switch (matching_type) {
    case 0: return Bytes(content.begin(), content.end());
    case 1: md = EVP_sha256(); break;
    case 2: md = EVP_sha512(); break;
    default: return {};
  }
  unsigned char out[EVP_MAX_MD_SIZE];
  unsigned int n = 0;
  if (EVP_Digest(content.data(), content.size(), out, &n, md, nullptr) != 1) return {};
  return Bytes(out, out + n);
}

Bytes spki_der(EVP_PKEY* key) {
  unsigned char* buf = nullptr;
  int n = i2d_PUBKEY(key, &buf);
  return take_openssl_buffer(buf, n);
}

bool record_matches_certificate(const dns::TlsaRecord& r, X509* cert) {
  if (r.data.empty()) return false;
  Bytes content = selected_content(cert, r.selector);
  if (content.empty()) return false;
  Bytes data = association_data(content, r.matching_type);
  return !data.empty() && data == r.data;
}

std::optional<dns::TlsaRecord> tlsa_record_for(std::span<const std::uint8_t> cert_der,
                                               std::uint8_t usage, std::uint8_t selector,
                                               std::uint8_t matching_type) {
  X509Ptr cert = tls::parse_certificate_der(cert_der);
  if (!cert) return std::nullopt;
  Bytes data = association_data(selected_content(cert.get(), selector), matching_type);
  if (data.empty()) return std::nullopt;
  return dns::TlsaRecord{usage, selector, matching_type, std::move(data)};
}

}  // namespace mailtls::dane
