#pragma once
// What a file holds, reduced to a SHA-256, to notice that a file changed although its time
// stamps did not (or that a Kubernetes volume swapped the symlink it is read through).

#include <string>

namespace mailtls::exporter {

// Files larger than this are fingerprinted by their first kMaxFingerprintBytes only.
constexpr size_t kMaxFingerprintBytes = 64 << 20;

// The hex SHA-256 of the file's content, or "missing" / "unreadable: <why>".
std::string file_fingerprint(const std::string& path);

}  // namespace mailtls::exporter
