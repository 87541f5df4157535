#pragma once
// DKIM signatures of a mailed TLS-RPT report (RFC 6376), checked with Debian's libopendkim.
// The public keys are looked up through our own dns::Resolver (libunbound, validating), not
// through libopendkim's resolver, so the key lookup has the exporter's resolver settings and a
// bound on its time, and whether each key answer was DNSSEC-secure is known.
//
// This file reports facts per signature; which signature counts for a report is the rule of
// dkim_signing_rule.h.
//
// Thread safety: DkimVerifier is immutable after construction; check() may run concurrently.

#include <chrono>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "probes/dns/resolver.h"

namespace mailtls::tlsrpt {

// What became of one DKIM-Signature header field.
enum class DkimSignatureStatus {
  kValid,          // the key was found and the signature and body hash verify
  kBadSignature,   // the signature or the body hash does not verify, or the field is malformed
  kKeyNotFound,    // the key name does not exist or has no TXT record (NXDOMAIN, NODATA)
  kKeyTemporary,   // the key lookup failed (SERVFAIL, timeout, bogus): worth trying again later
  kKeyRevoked,     // the key record has an empty p= (RFC 6376 §3.6.1)
  kKeyWrongService,  // the key's s= lists neither "*" nor "tlsrpt" (RFC 8460 §5.3, §7)
};
std::string_view to_string(DkimSignatureStatus s);  // "valid", "bad_signature", ...

struct DkimSignatureCheck {
  std::string domain;    // d=, lower case, no trailing dot
  std::string selector;  // s=
  DkimSignatureStatus status = DkimSignatureStatus::kBadSignature;
  bool body_length_limited = false;  // the signature has an l= tag
  dns::Security key_security = dns::Security::kIndeterminate;  // of the key's TXT answer
  std::string detail;  // libopendkim's or the resolver's words, for the log
};

struct DkimChecks {
  std::vector<DkimSignatureCheck> signatures;  // in header order; empty: the message is unsigned
  std::string error;  // set when the message could not be checked at all (the library refused it)
};

struct DkimVerifierOptions {
  std::chrono::milliseconds key_lookup_timeout{5000};  // per key
  std::size_t max_signatures = 8;  // further DKIM-Signature fields are not looked at
};

class DkimVerifier {
 public:
  // `resolver` is borrowed and must outlive the verifier.
  explicit DkimVerifier(dns::Resolver& resolver, DkimVerifierOptions options = {});
  ~DkimVerifier();
  DkimVerifier(const DkimVerifier&) = delete;
  DkimVerifier& operator=(const DkimVerifier&) = delete;

  // Checks every DKIM-Signature of an RFC 5322 message (LF or CRLF line ends).
  DkimChecks check(std::string_view message) const;

  struct Library;  // the libopendkim handle

 private:
  dns::Resolver& resolver_;
  DkimVerifierOptions options_;
  std::unique_ptr<Library> library_;
};

}  // namespace mailtls::tlsrpt
