#include "exporter/state_store.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>

namespace mailtls::exporter {
namespace {

constexpr std::uintmax_t kMaxStateBytes = 256ull << 20;
constexpr int kFormatVersion = 1;

bool write_all(int fd, const std::string& data) {
  size_t off = 0;
  while (off < data.size()) {
    ssize_t n = ::write(fd, data.data() + off, data.size() - off);
    if (n < 0) {
      if (errno == EINTR) continue;
      return false;
    }
    off += static_cast<size_t>(n);
  }
  return true;
}

}  // namespace

StateStore::StateStore(StateStore&& other) noexcept {
  std::lock_guard lock(other.mu_);
  dir_ = std::move(other.dir_);
  path_ = std::move(other.path_);
  doc_ = std::move(other.doc_);
  dirty_ = other.dirty_;
}

StateStore StateStore::in_memory() { return StateStore(); }

StateStore StateStore::open(const std::string& dir, std::string* warning) {
  StateStore s;
  s.dir_ = dir;
  s.path_ = (std::filesystem::path(dir) / "state.json").string();
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (!std::filesystem::exists(s.path_, ec)) return s;

  auto set_aside = [&](const std::string& why) {
    const auto now = std::chrono::duration_cast<std::chrono::seconds>(
                         std::chrono::system_clock::now().time_since_epoch())
                         .count();
    const std::string aside = s.path_ + ".corrupt-" + std::to_string(now);
    std::error_code rename_ec;
    std::filesystem::rename(s.path_, aside, rename_ec);
    if (warning) {
      *warning = "state file " + s.path_ + " " + why + "; " +
                 (rename_ec ? "could not set it aside: " + rename_ec.message()
                            : "set aside as " + aside) +
                 "; starting with empty state";
    }
  };

  const auto size = std::filesystem::file_size(s.path_, ec);
  if (ec || size > kMaxStateBytes) {
    set_aside(ec ? "is unreadable: " + ec.message() : "is larger than 256 MiB");
    return s;
  }
  std::ifstream in(s.path_, std::ios::binary);
  std::stringstream buf;
  buf << in.rdbuf();
  auto doc = nlohmann::json::parse(buf.str(), nullptr, /*allow_exceptions=*/false);
  if (doc.is_discarded() || !doc.is_object() || !doc.contains("sections") ||
      !doc["sections"].is_object()) {
    set_aside("is corrupt (not a mailtls state document)");
    return s;
  }
  s.doc_ = std::move(doc["sections"]);
  return s;
}

nlohmann::json StateStore::get(const std::string& sec, const std::string& key) const {
  std::lock_guard lock(mu_);
  auto it = doc_.find(sec);
  if (it == doc_.end() || !it->is_object()) return nullptr;
  auto kt = it->find(key);
  return kt == it->end() ? nlohmann::json(nullptr) : *kt;
}

nlohmann::json StateStore::section(const std::string& sec) const {
  std::lock_guard lock(mu_);
  auto it = doc_.find(sec);
  if (it == doc_.end() || !it->is_object()) return nlohmann::json::object();
  return *it;
}

void StateStore::put(const std::string& sec, const std::string& key, nlohmann::json value) {
  std::lock_guard lock(mu_);
  auto& s = doc_[sec];
  if (!s.is_object()) s = nlohmann::json::object();
  if (s.contains(key) && s[key] == value) return;
  s[key] = std::move(value);
  dirty_ = true;
}

void StateStore::erase(const std::string& sec, const std::string& key) {
  std::lock_guard lock(mu_);
  auto it = doc_.find(sec);
  if (it != doc_.end() && it->is_object() && it->erase(key) > 0) dirty_ = true;
}

bool StateStore::save(std::string* error) {
  std::lock_guard save_lock(save_mu_);
  std::string text;
  {
    std::lock_guard lock(mu_);
    if (path_.empty() || !dirty_) return true;
    nlohmann::json out = {{"format", kFormatVersion}, {"sections", doc_}};
    text = out.dump(1);
    dirty_ = false;
  }
  auto fail = [&](const std::string& what) {
    if (error) *error = what + ": " + std::strerror(errno);
    std::lock_guard lock(mu_);
    dirty_ = true;  // try again next time
    return false;
  };
  const std::string tmp = path_ + ".tmp";
  int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0) return fail("cannot write " + tmp);
  if (!write_all(fd, text) || ::fsync(fd) != 0) {
    ::close(fd);
    ::unlink(tmp.c_str());
    return fail("cannot write " + tmp);
  }
  ::close(fd);
  if (::rename(tmp.c_str(), path_.c_str()) != 0) {
    ::unlink(tmp.c_str());
    return fail("cannot replace " + path_);
  }
  int dfd = ::open(dir_.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dfd >= 0) {
    ::fsync(dfd);
    ::close(dfd);
  }
  return true;
}

}  // namespace mailtls::exporter
