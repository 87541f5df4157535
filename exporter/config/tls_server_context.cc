#include "exporter/config/tls_server_context.h"

#include <arpa/inet.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <memory>
#include <vector>

#include "probes/tls/openssl_errors.h"

namespace mailtls::exporter {
namespace {

// What the verify callback needs, kept with the SSL_CTX (in ex_data, freed with it).
struct ClientCertPolicy {
  bool verify = false;  // false: any certificate is taken (RequestClientCert, RequireAnyClientCert)
  std::vector<std::string> allowed_sans;
};

void free_policy(void*, void* ptr, CRYPTO_EX_DATA*, int, long, void*) {
  delete static_cast<ClientCertPolicy*>(ptr);
}

int policy_index() {
  static const int index = SSL_CTX_get_ex_new_index(0, nullptr, nullptr, nullptr, free_policy);
  return index;
}

// The subject alternative names of `cert` as Go's x509 package spells them: DNS names, IP
// addresses (inet_ntop), e-mail addresses and URIs.
std::vector<std::string> subject_alt_names(X509* cert) {
  std::vector<std::string> out;
  GeneralNamesPtr names(static_cast<GENERAL_NAMES*>(X509_get_ext_d2i(cert, NID_subject_alt_name, nullptr, nullptr)));
  if (!names) return out;
  for (int i = 0; i < sk_GENERAL_NAME_num(names.get()); ++i) {
    const GENERAL_NAME* n = sk_GENERAL_NAME_value(names.get(), i);
    if (n->type == GEN_DNS || n->type == GEN_EMAIL || n->type == GEN_URI) {
      const ASN1_IA5STRING* s = n->d.ia5;
      out.emplace_back(reinterpret_cast<const char*>(ASN1_STRING_get0_data(s)),
                       static_cast<size_t>(ASN1_STRING_length(s)));
    } else if (n->type == GEN_IPADD) {
      const ASN1_OCTET_STRING* ip = n->d.ip;
      char text[INET6_ADDRSTRLEN] = {};
      const int len = ASN1_STRING_length(ip);
      const int family = len == 4 ? AF_INET : len == 16 ? AF_INET6 : 0;
      if (family && inet_ntop(family, ASN1_STRING_get0_data(ip), text, sizeof text)) out.emplace_back(text);
    }
  }
  return out;
}

bool san_allowed(X509* cert, const std::vector<std::string>& allowed) {
  for (const auto& san : subject_alt_names(cert)) {
    for (const auto& a : allowed) {
      if (san == a) return true;
    }
  }
  return false;
}

int verify_client_certificate(int preverified, X509_STORE_CTX* store) {
  auto* ssl = static_cast<SSL*>(X509_STORE_CTX_get_ex_data(store, SSL_get_ex_data_X509_STORE_CTX_idx()));
  const auto* policy = static_cast<const ClientCertPolicy*>(SSL_CTX_get_ex_data(SSL_get_SSL_CTX(ssl), policy_index()));
  if (!policy) return preverified;
  if (policy->verify && !preverified) return 0;
  if (X509_STORE_CTX_get_error_depth(store) == 0 && !policy->allowed_sans.empty() &&
      !san_allowed(X509_STORE_CTX_get_current_cert(store), policy->allowed_sans)) {
    X509_STORE_CTX_set_error(store, X509_V_ERR_APPLICATION_VERIFICATION);
    return 0;
  }
  return 1;
}

BioPtr memory_bio(const std::string& pem) {
  return BioPtr(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
}

// The first certificate is the server's, the others its chain.
bool use_certificate_chain(SSL_CTX* ctx, const std::string& pem) {
  auto bio = memory_bio(pem);
  X509Ptr leaf(PEM_read_bio_X509_AUX(bio.get(), nullptr, nullptr, nullptr));
  if (!leaf || SSL_CTX_use_certificate(ctx, leaf.get()) != 1) return false;
  SSL_CTX_clear_chain_certs(ctx);
  while (X509Ptr extra{PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr)}) {
    if (SSL_CTX_add1_chain_cert(ctx, extra.get()) != 1) return false;
  }
  ERR_clear_error();  // the end of the PEM
  return true;
}

EvpPkeyPtr read_private_key(const std::string& pem) {
  auto bio = memory_bio(pem);
  return EvpPkeyPtr(PEM_read_bio_PrivateKey(bio.get(), nullptr, nullptr, nullptr));
}

// Trusts the CAs for client certificates and names them in the certificate request.
bool use_client_cas(SSL_CTX* ctx, const std::string& pem) {
  auto bio = memory_bio(pem);
  X509_STORE* store = SSL_CTX_get_cert_store(ctx);
  int n = 0;
  while (X509Ptr ca{PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr)}) {
    if (X509_STORE_add_cert(store, ca.get()) != 1 || SSL_CTX_add_client_CA(ctx, ca.get()) != 1) return false;
    ++n;
  }
  ERR_clear_error();
  return n > 0;
}

std::optional<std::string> read_bounded(const std::string& what, const std::string& path, std::string* error) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    *error = "cannot load " + what + " " + path + ": " + std::strerror(errno);
    return std::nullopt;
  }
  std::string text(kMaxPemFileBytes + 1, '\0');
  in.read(text.data(), static_cast<std::streamsize>(text.size()));
  text.resize(static_cast<size_t>(in.gcount()));
  if (text.size() > kMaxPemFileBytes) {
    *error = "cannot load " + what + " " + path + ": larger than " + std::to_string(kMaxPemFileBytes) + " bytes";
    return std::nullopt;
  }
  return text;
}

}  // namespace

std::optional<TlsPem> read_tls_pem(const WebTlsConfig& t, std::string* error) {
  TlsPem pem{t.cert_pem, t.key_pem, t.client_ca_pem};
  struct PemFile {
    const char* what;
    const std::string* path;
    std::string* out;
  };
  for (const PemFile f : {PemFile{"certificate", &t.cert_file, &pem.cert}, PemFile{"private key", &t.key_file, &pem.key},
                          PemFile{"client CA", &t.client_ca_file, &pem.client_ca}}) {
    if (f.path->empty()) continue;
    auto text = read_bounded(f.what, *f.path, error);
    if (!text) return std::nullopt;
    *f.out = std::move(*text);
  }
  return pem;
}

SslCtxPtr make_server_ssl_ctx(const WebTlsConfig& t, const TlsPem& pem, std::string* error) {
  ERR_clear_error();
  auto fail = [&](const std::string& why) {
    const std::string openssl = tls::drain_openssl_errors();
    *error = openssl.empty() ? why : why + ": " + openssl;
    return SslCtxPtr();
  };
  SslCtxPtr ctx(SSL_CTX_new(TLS_server_method()));
  if (!ctx) return fail("cannot create a TLS context");
  SSL_CTX* c = ctx.get();
  // Client-initiated renegotiation costs the server a handshake each: none.
  SSL_CTX_set_options(c, SSL_OP_NO_RENEGOTIATION);
  const int min = t.min_version ? t.min_version : TLS1_2_VERSION;
  if (min < TLS1_2_VERSION) SSL_CTX_set_security_level(c, 0);  // TLS 1.0 and 1.1 need SHA-1 signatures
  if (SSL_CTX_set_min_proto_version(c, min) != 1 || SSL_CTX_set_max_proto_version(c, t.max_version) != 1) {
    return fail("cannot set the TLS versions");
  }
  if (!t.cipher_list.empty() && SSL_CTX_set_cipher_list(c, t.cipher_list.c_str()) != 1) {
    return fail("OpenSSL has none of the cipher suites " + t.cipher_list);
  }
  if (t.prefer_server_cipher_suites) SSL_CTX_set_options(c, SSL_OP_CIPHER_SERVER_PREFERENCE);
  if (!t.groups_list.empty() && SSL_CTX_set1_groups_list(c, t.groups_list.c_str()) != 1) {
    return fail("OpenSSL does not take the curves " + t.groups_list);
  }
  const std::string cert_source = t.cert_file.empty() ? "tls_server_config.cert" : t.cert_file;
  const std::string key_source = t.key_file.empty() ? "tls_server_config.key" : t.key_file;
  if (!use_certificate_chain(c, pem.cert)) return fail("cannot load certificate " + cert_source);
  const EvpPkeyPtr key = read_private_key(pem.key);
  if (!key) return fail("cannot load private key " + key_source);
  if (SSL_CTX_use_PrivateKey(c, key.get()) != 1 || SSL_CTX_check_private_key(c) != 1) {
    return fail("private key " + key_source + " does not match certificate " + cert_source);
  }
  if (!pem.client_ca.empty() && !use_client_cas(c, pem.client_ca)) {
    return fail("cannot load client CA " + (t.client_ca_file.empty() ? "tls_server_config.client_ca" : t.client_ca_file));
  }
  int mode = SSL_VERIFY_NONE;
  switch (t.client_auth) {
    case ClientAuthType::kNoClientCert: break;
    case ClientAuthType::kRequestClientCert:
    case ClientAuthType::kVerifyClientCertIfGiven: mode = SSL_VERIFY_PEER; break;
    case ClientAuthType::kRequireAnyClientCert:
    case ClientAuthType::kRequireAndVerifyClientCert:
      mode = SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT;
      break;
  }
  if (mode != SSL_VERIFY_NONE) {
    auto policy = std::make_unique<ClientCertPolicy>();
    policy->verify = t.client_auth == ClientAuthType::kVerifyClientCertIfGiven ||
                     t.client_auth == ClientAuthType::kRequireAndVerifyClientCert;
    policy->allowed_sans = t.client_allowed_sans;
    if (SSL_CTX_set_ex_data(c, policy_index(), policy.get()) != 1) return fail("cannot set the client certificate policy");
    policy.release();  // freed with the context
    SSL_CTX_set_verify(c, mode, verify_client_certificate);
    // OpenSSL refuses to resume a session with client certificates without one.
    SSL_CTX_set_session_id_context(c, reinterpret_cast<const unsigned char*>("mailtls"), 7);
  }
  return ctx;
}

}  // namespace mailtls::exporter
