#pragma once
// Signs test messages with DKIM (libopendkim's signer, rsa-sha256, relaxed/relaxed) under a
// key made at construction, and gives the TXT record that publishes it, so unit tests can
// check the verifier against a FakeResolver without files or DNS.

#include <memory>
#include <string>
#include <string_view>

namespace mailtls::testing {

class DkimTestSigner {
 public:
  DkimTestSigner();  // a fresh 2048-bit RSA key
  ~DkimTestSigner();
  DkimTestSigner(const DkimTestSigner&) = delete;
  DkimTestSigner& operator=(const DkimTestSigner&) = delete;

  // The key record for <selector>._domainkey.<domain>: "v=DKIM1; k=rsa; p=..." plus `extra`
  // tags (e.g. "s=tlsrpt").
  std::string key_record(std::string_view extra = "") const;
  // `message` (LF line ends) with a DKIM-Signature field prepended, signed as d=domain,
  // s=selector; body_length_tag adds l= covering the whole body.
  std::string sign(std::string_view message, std::string_view domain, std::string_view selector,
                   bool body_length_tag = false) const;

 private:
  std::string private_key_pem_;
  std::string public_key_b64_;
};

}  // namespace mailtls::testing
