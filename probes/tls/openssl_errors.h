#pragma once
// OpenSSL reports why something failed in a per-thread error queue. Every failed call is followed
// by drain_openssl_errors(), so the message says why and the queue does not leak into the next
// operation on this thread.

#include <string>

namespace mailtls::tls {

// The queued errors of this thread as one line, "; "-separated ("" if none); the queue is empty after.
std::string drain_openssl_errors();

}  // namespace mailtls::tls
