#include "probes/tls/certificate.h"

#include <openssl/bn.h>
#include <openssl/ec.h>
#include <openssl/evp.h>

#include <ctime>

#include "probes/base/hex.h"
#include "probes/base/sha256.h"
#include "probes/tls/openssl_errors.h"

namespace mailtls::tls {

namespace {

using BignumPtr = std::unique_ptr<BIGNUM, FnDeleter<BN_free>>;

void free_openssl_string(char* p) { OPENSSL_free(p); }
using OpensslStringPtr = std::unique_ptr<char, FnDeleter<free_openssl_string>>;

constexpr std::size_t kMaxNameChars = 4096;
constexpr int kMaxSanEntries = 1000;

// RFC 2253 form, but with UTF-8 kept readable instead of \XX-escaped (labels and logs are UTF-8).
std::string one_line_name(const X509_NAME* name) {
  if (!name) return "";
  BioPtr bio(BIO_new(BIO_s_mem()));
  if (!bio) return "";
  const unsigned long flags = XN_FLAG_RFC2253 & ~ASN1_STRFLGS_ESC_MSB;
  if (X509_NAME_print_ex(bio.get(), name, 0, flags) < 0) return "";
  char* data = nullptr;
  const long len = BIO_get_mem_data(bio.get(), &data);
  if (len <= 0 || !data) return "";
  return std::string(data, std::min<std::size_t>(static_cast<std::size_t>(len), kMaxNameChars));
}

std::vector<std::string> san_dns_names(X509* cert) {
  std::vector<std::string> names;
  GeneralNamesPtr sans(static_cast<GENERAL_NAMES*>(
      X509_get_ext_d2i(cert, NID_subject_alt_name, nullptr, nullptr)));
  if (!sans) return names;
  const int n = std::min(sk_GENERAL_NAME_num(sans.get()), kMaxSanEntries);
  for (int i = 0; i < n; ++i) {
    const GENERAL_NAME* gn = sk_GENERAL_NAME_value(sans.get(), i);
    if (gn->type != GEN_DNS) continue;
    const ASN1_IA5STRING* s = gn->d.dNSName;
    names.emplace_back(reinterpret_cast<const char*>(ASN1_STRING_get0_data(s)),
                       static_cast<std::size_t>(ASN1_STRING_length(s)));
  }
  return names;
}

void fill_key(X509* cert, CertificateFacts& f) {
  const EVP_PKEY* key = X509_get0_pubkey(cert);
  if (!key) return;
  f.key_bits = EVP_PKEY_get_bits(key);
  switch (EVP_PKEY_get_base_id(key)) {
    case EVP_PKEY_RSA:
    case EVP_PKEY_RSA_PSS: f.key_type = KeyType::kRsa; break;
    case EVP_PKEY_EC: {
      f.key_type = KeyType::kEc;
      char curve[80] = {};
      size_t len = 0;
      if (EVP_PKEY_get_utf8_string_param(key, "group", curve, sizeof(curve), &len) == 1) {
        f.key_curve.assign(curve, len);
      }
      break;
    }
    case EVP_PKEY_ED25519: f.key_type = KeyType::kEd25519; break;
    case EVP_PKEY_ED448: f.key_type = KeyType::kEd448; break;
    case EVP_PKEY_DSA: f.key_type = KeyType::kDsa; break;
    default: f.key_type = KeyType::kUnknown; break;
  }
}

std::string serial_hex(X509* cert) {
  BignumPtr bn(ASN1_INTEGER_to_BN(X509_get0_serialNumber(cert), nullptr));
  if (!bn) return "";
  OpensslStringPtr text(BN_bn2hex(bn.get()));
  if (!text) return "";
  std::string out(text.get());
  for (char& c : out) {
    if (c >= 'A' && c <= 'F') c = static_cast<char>(c - 'A' + 'a');
  }
  return out;
}

}  // namespace

std::string_view to_string(KeyType k) {
  switch (k) {
    case KeyType::kRsa: return "RSA";
    case KeyType::kEc: return "EC";
    case KeyType::kEd25519: return "Ed25519";
    case KeyType::kEd448: return "Ed448";
    case KeyType::kDsa: return "DSA";
    case KeyType::kUnknown: break;
  }
  return "unknown";
}

X509Ptr parse_certificate_der(std::span<const std::uint8_t> der) {
  if (der.empty() || der.size() > kMaxCertificateDerBytes) return nullptr;
  const unsigned char* p = der.data();
  X509Ptr cert(d2i_X509(nullptr, &p, static_cast<long>(der.size())));
  // Trailing bytes mean this was not exactly one certificate.
  if (cert && p != der.data() + der.size()) cert.reset();
  return cert;
}

CertificateInspection inspect_certificate(std::span<const std::uint8_t> der) {
  if (der.empty()) return Unexpected("empty certificate");
  if (der.size() > kMaxCertificateDerBytes) {
    return Unexpected("certificate of " + std::to_string(der.size()) + " bytes exceeds the limit of " +
                      std::to_string(kMaxCertificateDerBytes));
  }
  X509Ptr cert = parse_certificate_der(der);
  if (!cert) {
    const std::string why = drain_openssl_errors();
    return Unexpected("not a DER certificate" + (why.empty() ? std::string() : ": " + why));
  }
  return inspect_x509(cert.get());
}

std::optional<SystemTime> certificate_time(const ASN1_TIME* t) {
  if (!t) return std::nullopt;
  std::tm tm{};
  if (ASN1_TIME_to_tm(t, &tm) != 1) return std::nullopt;
  const time_t secs = timegm(&tm);
  return std::chrono::system_clock::from_time_t(secs);
}

CertificateInspection inspect_x509(X509* cert) {
  if (cert == nullptr) return Unexpected("no certificate");
  CertificateFacts f;
  f.subject = one_line_name(X509_get_subject_name(cert));
  f.issuer = one_line_name(X509_get_issuer_name(cert));
  f.self_issued = X509_NAME_cmp(X509_get_subject_name(cert), X509_get_issuer_name(cert)) == 0;
  f.dns_names = san_dns_names(cert);
  const auto nb = certificate_time(X509_get0_notBefore(cert));
  const auto na = certificate_time(X509_get0_notAfter(cert));
  if (!nb || !na) {
    drain_openssl_errors();
    return Unexpected("certificate validity dates unreadable");
  }
  f.not_before = *nb;
  f.not_after = *na;

  const X509_PUBKEY* spki = X509_get_X509_PUBKEY(cert);
  unsigned char* spki_der = nullptr;
  const int spki_len = spki ? i2d_X509_PUBKEY(spki, &spki_der) : -1;
  if (spki_len <= 0) {
    return Unexpected("certificate public key unreadable: " + drain_openssl_errors());
  }
  f.spki_sha256 = sha256_hex({spki_der, static_cast<std::size_t>(spki_len)});
  OPENSSL_free(spki_der);
  // OpenSSL keeps the received encoding, so this digests the bytes as presented.
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int digest_len = 0;
  if (X509_digest(cert, EVP_sha256(), digest, &digest_len) != 1) {
    return Unexpected("certificate cannot be encoded: " + drain_openssl_errors());
  }
  f.cert_sha256 = to_hex(std::span(digest, digest_len));
  fill_key(cert, f);
  f.serial_hex = serial_hex(cert);
  drain_openssl_errors();
  return f;
}

}  // namespace mailtls::tls
