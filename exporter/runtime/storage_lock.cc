#include "exporter/runtime/storage_lock.h"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>

namespace mailtls::exporter {

bool StorageLock::acquire(const std::string& dir, std::string* error, std::string* warning) {
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  const std::string path = (std::filesystem::path(dir) / "lock").string();
  // O_NOFOLLOW: a symlink planted as the lock file is refused, not followed.
  UniqueFd fd(::open(path.c_str(), O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0600));
  if (!fd.valid()) {
    const int err = errno;
    if (err == EROFS || err == EACCES) {
      if (warning) {
        *warning = "cannot create the lock file " + path + " (" + std::strerror(err) +
                   "); running unlocked: the state cannot be saved there either";
      }
      return true;
    }
    if (error) *error = "cannot open the lock file " + path + ": " + std::strerror(err);
    return false;
  }
  while (::flock(fd.get(), LOCK_EX | LOCK_NB) != 0) {
    if (errno == EINTR) continue;
    if (error) {
      *error = errno == EWOULDBLOCK
                   ? "--storage.path " + dir + " is in use by another mailtls_exporter (" + path +
                         " is locked); give each exporter a directory of its own"
                   : "cannot lock " + path + ": " + std::strerror(errno);
    }
    return false;
  }
  // Who holds it, for whoever looks (the lock is the flock, not this text).
  const std::string pid = std::to_string(::getpid()) + "\n";
  if (::ftruncate(fd.get(), 0) == 0) {
    [[maybe_unused]] const auto n = ::pwrite(fd.get(), pid.data(), pid.size(), 0);
  }
  fd_ = std::move(fd);
  return true;
}

}  // namespace mailtls::exporter
