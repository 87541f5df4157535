#include "tests/fakes/dkim_test_signer.h"

#include <openssl/bio.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#define _Bool bool
#include <opendkim/dkim.h>
#undef _Bool

#include <stdexcept>
#include <vector>

namespace mailtls::testing {
namespace {

template <auto Fn>
struct FnDeleter {
  void operator()(auto* p) const noexcept { Fn(p); }
};
using PkeyPtr = std::unique_ptr<EVP_PKEY, FnDeleter<EVP_PKEY_free>>;
using BioPtr = std::unique_ptr<BIO, FnDeleter<BIO_free>>;
using DkimLibPtr = std::unique_ptr<DKIM_LIB, FnDeleter<dkim_close>>;
using DkimPtr = std::unique_ptr<DKIM, FnDeleter<dkim_free>>;

std::string crlf(std::string_view s) {
  std::string out;
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '\n' && (i == 0 || s[i - 1] != '\r')) out += '\r';
    out += s[i];
  }
  return out;
}

}  // namespace

DkimTestSigner::DkimTestSigner() {
  PkeyPtr key(EVP_RSA_gen(2048));
  if (!key) throw std::runtime_error("RSA key generation failed");
  BioPtr pem(BIO_new(BIO_s_mem()));
  PEM_write_bio_PrivateKey(pem.get(), key.get(), nullptr, nullptr, 0, nullptr, nullptr);
  char* data = nullptr;
  const long len = BIO_get_mem_data(pem.get(), &data);
  private_key_pem_.assign(data, static_cast<std::size_t>(len));
  unsigned char* der = nullptr;
  const int der_len = i2d_PUBKEY(key.get(), &der);
  std::vector<unsigned char> b64(4 * ((static_cast<std::size_t>(der_len) + 2) / 3) + 1);
  const int n = EVP_EncodeBlock(b64.data(), der, der_len);
  OPENSSL_free(der);
  public_key_b64_.assign(reinterpret_cast<char*>(b64.data()), static_cast<std::size_t>(n));
}

DkimTestSigner::~DkimTestSigner() = default;

std::string DkimTestSigner::key_record(std::string_view extra) const {
  return "v=DKIM1; k=rsa; " + (extra.empty() ? std::string() : std::string(extra) + "; ") + "p=" + public_key_b64_;
}

std::string DkimTestSigner::sign(std::string_view message, std::string_view domain, std::string_view selector,
                                 bool body_length_tag) const {
  const std::string m = crlf(message);
  const auto split = m.find("\r\n\r\n");
  if (split == std::string::npos) throw std::invalid_argument("message without a body");
  const std::string body = m.substr(split + 4);
  DkimLibPtr lib(dkim_init(nullptr, nullptr));
  DKIM_STAT stat = DKIM_STAT_OK;
  const std::string d(domain), s(selector);
  DkimPtr dkim(dkim_sign(lib.get(), reinterpret_cast<const u_char*>("test"), nullptr,
                         reinterpret_cast<dkim_sigkey_t>(const_cast<char*>(private_key_pem_.c_str())),
                         reinterpret_cast<const u_char*>(s.c_str()), reinterpret_cast<const u_char*>(d.c_str()),
                         DKIM_CANON_RELAXED, DKIM_CANON_RELAXED, DKIM_SIGN_RSASHA256,
                         body_length_tag ? static_cast<ssize_t>(body.size()) : -1, &stat));
  if (!dkim) throw std::runtime_error(std::string("dkim_sign: ") + dkim_getresultstr(stat));
  std::size_t pos = 0;
  const std::string head = m.substr(0, split + 2);
  while (pos < head.size()) {
    std::size_t end = head.find("\r\n", pos);
    while (end + 2 < head.size() && (head[end + 2] == ' ' || head[end + 2] == '\t')) end = head.find("\r\n", end + 2);
    std::string field = head.substr(pos, end - pos);
    if (dkim_header(dkim.get(), reinterpret_cast<u_char*>(field.data()), field.size()) != DKIM_STAT_OK) {
      throw std::runtime_error("dkim_header failed");
    }
    pos = end + 2;
  }
  std::string b = body;
  if (dkim_eoh(dkim.get()) != DKIM_STAT_OK ||
      (!b.empty() && dkim_body(dkim.get(), reinterpret_cast<u_char*>(b.data()), b.size()) != DKIM_STAT_OK) ||
      dkim_eom(dkim.get(), nullptr) != DKIM_STAT_OK) {
    throw std::runtime_error(std::string("signing failed: ") + dkim_geterror(dkim.get()));
  }
  std::vector<u_char> sig(8192);
  if (dkim_getsighdr(dkim.get(), sig.data(), sig.size(), sizeof "DKIM-Signature: " - 1) != DKIM_STAT_OK) {
    throw std::runtime_error("dkim_getsighdr failed");
  }
  // The folded field, with the message's own line ends.
  const bool message_crlf = std::string_view(message).find("\r\n") != std::string_view::npos;
  std::string field = "DKIM-Signature: " + std::string(reinterpret_cast<char*>(sig.data()));
  std::string out;
  for (char c : field) {
    if (c != '\r') out += c;
    if (c == '\n' && message_crlf) out.insert(out.size() - 1, "\r");
  }
  return out + (message_crlf ? "\r\n" : "\n") + std::string(message);
}

}  // namespace mailtls::testing
