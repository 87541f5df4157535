#pragma once
// One writer per --storage.path: two exporters on one directory each saved their own state
// over the other's, and half of the acknowledged TLS-RPT reports were lost. The exporter
// takes an exclusive flock(2) on <dir>/lock for its lifetime and refuses to start without
// it. The lock is released by the kernel when the process ends, however it ends. Readers of
// the state (a later `check` or /probe) do not need it.

#include <string>

#include "probes/base/unique_fd.h"

namespace mailtls::exporter {

class StorageLock {
 public:
  // Creates <dir> if needed and takes the lock without waiting. False with a one-line reason
  // when another process holds it or the lock file cannot be opened. A directory the exporter
  // may not write (read-only file system, no permission) is locked by nobody and written by
  // nobody either: true, with a note in `warning`.
  bool acquire(const std::string& dir, std::string* error, std::string* warning);
  bool held() const { return fd_.valid(); }

 private:
  UniqueFd fd_;
};

}  // namespace mailtls::exporter
