#include "probes/tls/x509_chain.h"

#include "probes/tls/certificate.h"
#include "probes/tls/chain_memo.h"

namespace mailtls::tls {
namespace {

X509Ptr share_one(X509* cert) {
  X509_up_ref(cert);
  return X509Ptr(cert);
}

}  // namespace

X509Chain::X509Chain(const X509Chain& other) : memo_(other.memo_) {
  certs_.reserve(other.certs_.size());
  for (const auto& c : other.certs_) certs_.push_back(share_one(c.get()));
}

void X509Chain::start_memo() {
  if (!certs_.empty()) memo_ = std::make_shared<ChainMemo>();
}

const CertificateInspection& X509Chain::leaf_facts() const {
  static const CertificateInspection kNone = Unexpected(std::string("no certificate"));
  return memo_ ? memo_->leaf_facts(leaf()) : kNone;
}

X509Chain& X509Chain::operator=(const X509Chain& other) {
  if (this != &other) *this = X509Chain(other);
  return *this;
}

X509Chain X509Chain::share(const STACK_OF(X509) * stack, std::size_t max) {
  X509Chain out;
  if (stack == nullptr) return out;
  const int n = sk_X509_num(stack);
  for (int i = 0; i < n && static_cast<std::size_t>(i) < max; ++i) {
    X509* cert = sk_X509_value(stack, i);
    if (cert == nullptr) break;
    out.certs_.push_back(share_one(cert));
  }
  out.start_memo();
  return out;
}

X509Chain X509Chain::parse(const DerChain& der) {
  X509Chain out;
  for (const auto& bytes : der) {
    X509Ptr cert = parse_certificate_der(bytes);
    if (!cert) break;
    out.certs_.push_back(std::move(cert));
  }
  out.start_memo();
  return out;
}

DerChain X509Chain::der() const {
  DerChain out;
  out.reserve(certs_.size());
  for (const auto& c : certs_) {
    unsigned char* buf = nullptr;
    const int len = i2d_X509(c.get(), &buf);
    if (len <= 0) break;
    out.emplace_back(buf, buf + len);
    OPENSSL_free(buf);
  }
  return out;
}

}  // namespace mailtls::tls
