#include "exporter/runtime/state_store.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <filesystem>

namespace mailtls::exporter {
namespace {

constexpr std::uintmax_t kMaxStateBytes = 256ull << 20;
constexpr int kFormatVersion = 1;
// The document is {"format", "sections": {section: {key: entry}}} and an entry is a number
// or an object of scalars: 4 levels of containers. Anything much deeper is not ours, and
// nlohmann's dump() recurses once per level (a file nested 100,000 deep crashed the first
// save; 30,000 deep was written back as 900 MB of indentation).
constexpr int kMaxStateDepth = 8;

// Sections whose entries the exporter reads, with the entry shape it writes. Other sections
// (tests, later versions) only have to be objects within kMaxStateDepth.
bool entry_fits(const std::string& section, const nlohmann::json& entry) {
  if (section == "tlsrpt_counters" || section == "tlsrpt_seen" || section == "tlsrpt_labels") {
    return entry.is_number();
  }
  if (section == "tlsa_rrsets" || section == "mtasts_policies") {
    if (!entry.is_object()) return false;
    for (const auto& [k, v] : entry.items()) {
      if (v.is_structured()) return false;
    }
  }
  return true;
}

// Why `doc` is not a state document this version can use; empty when it is.
std::string shape_error(const nlohmann::json& doc) {
  if (!doc.is_object() || !doc.contains("sections") || !doc["sections"].is_object()) {
    return "not a mailtls state document";
  }
  if (doc.contains("format") && doc["format"] != kFormatVersion) return "an unknown format version";
  for (const auto& [name, section] : doc["sections"].items()) {
    if (!section.is_object()) return "section \"" + name + "\" is not an object";
    for (const auto& [key, entry] : section.items()) {
      if (!entry_fits(name, entry)) return "an entry of section \"" + name + "\" has the wrong shape";
    }
  }
  return {};
}

// Reads at most `limit` + 1 bytes of a regular file: a FIFO or a device at the path must not
// block the start or fill the memory.
bool read_regular_file(const std::string& path, std::uintmax_t limit, std::string* out,
                       std::string* error) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK);
  if (fd < 0) {
    *error = std::string("is unreadable: ") + std::strerror(errno);
    return false;
  }
  struct stat st {};
  if (::fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
    ::close(fd);
    *error = "is not a regular file";
    return false;
  }
  out->clear();
  char buf[65536];
  while (out->size() <= limit) {
    const ssize_t n = ::read(fd, buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      *error = std::string("is unreadable: ") + std::strerror(errno);
      ::close(fd);
      return false;
    }
    if (n == 0) break;
    out->append(buf, static_cast<std::size_t>(n));
  }
  ::close(fd);
  if (out->size() > limit) {
    *error = "is larger than 256 MiB";
    return false;
  }
  return true;
}

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

std::optional<nlohmann::json> StateStore::load_sections(const std::string& path, std::string* why) {
  why->clear();
  std::error_code ec;
  if (!std::filesystem::exists(path, ec)) return std::nullopt;
  std::string text;
  if (!read_regular_file(path, kMaxStateBytes, &text, why)) return std::nullopt;
  bool too_deep = false;
  const nlohmann::json::parser_callback_t limit_depth =
      [&too_deep](int depth, nlohmann::json::parse_event_t event, nlohmann::json&) {
        if ((event == nlohmann::json::parse_event_t::object_start ||
             event == nlohmann::json::parse_event_t::array_start) &&
            depth >= kMaxStateDepth) {
          too_deep = true;
          return false;  // not kept: the document is refused below
        }
        return true;
      };
  auto doc = nlohmann::json::parse(text, limit_depth, /*allow_exceptions=*/false);
  text.clear();
  if (doc.is_discarded()) {
    *why = "is corrupt (not a mailtls state document)";
    return std::nullopt;
  }
  if (too_deep) {
    *why = "is corrupt (nested deeper than " + std::to_string(kMaxStateDepth) + " levels)";
    return std::nullopt;
  }
  if (const std::string shape = shape_error(doc); !shape.empty()) {
    *why = "is corrupt (" + shape + ")";
    return std::nullopt;
  }
  return std::move(doc["sections"]);
}

StateStore StateStore::open(const std::string& dir, std::string* warning) {
  StateStore s;
  s.dir_ = dir;
  s.path_ = (std::filesystem::path(dir) / "state.json").string();
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  std::string why;
  if (auto sections = load_sections(s.path_, &why)) {
    s.doc_ = std::move(*sections);
    return s;
  }
  if (why.empty()) return s;  // no file yet
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
  return s;
}

StateStore StateStore::read_only(const std::string& dir, std::string* warning) {
  StateStore s;
  const std::string path = (std::filesystem::path(dir) / "state.json").string();
  std::string why;
  if (auto sections = load_sections(path, &why)) {
    s.doc_ = std::move(*sections);
  } else if (!why.empty() && warning) {
    *warning = "state file " + path + " " + why + "; no history used";
  }
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

nlohmann::json StateStore::entries_with_prefix(const std::string& sec,
                                               const std::string& prefix) const {
  nlohmann::json out = nlohmann::json::object();
  std::lock_guard lock(mu_);
  auto it = doc_.find(sec);
  if (it == doc_.end() || !it->is_object()) return out;
  const auto& entries = it->get_ref<const nlohmann::json::object_t&>();
  for (auto e = entries.lower_bound(prefix); e != entries.end() && e->first.starts_with(prefix); ++e) {
    out[e->first] = e->second;
  }
  return out;
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

void StateStore::update(const std::string& sec, const std::string& key, const Change& change) {
  std::lock_guard lock(mu_);
  static const nlohmann::json none;
  const auto it = doc_.find(sec);
  const nlohmann::json* current = &none;
  if (it != doc_.end() && it->is_object()) {
    if (const auto kt = it->find(key); kt != it->end()) current = &*kt;
  }
  nlohmann::json next = change(*current, doc_);
  if (next == *current) return;
  if (next.is_null()) {
    doc_[sec].erase(key);
  } else {
    auto& s = doc_[sec];
    if (!s.is_object()) s = nlohmann::json::object();
    s[key] = std::move(next);
  }
  dirty_ = true;
}

bool StateStore::save(std::string* error) {
  std::lock_guard save_lock(save_mu_);
  std::string text;
  {
    std::lock_guard lock(mu_);
    if (path_.empty() || !dirty_) return true;
    // The sections are moved into the document and back, not copied: at 20,000 domains they
    // are ~17 MB of JSON, and a copy of their tree at every save (every few seconds during a
    // round) held twice the state's memory and cost as much CPU as the dump itself.
    nlohmann::json out = nlohmann::json::object();
    out["format"] = kFormatVersion;
    out["sections"] = std::move(doc_);
    try {
      // Keys and strings come from peers (MX names, TLS-RPT reports): a byte sequence that is
      // not UTF-8 must not make dump() throw (it did, in the saver thread: std::terminate).
      text = out.dump(1, ' ', false, nlohmann::json::error_handler_t::replace);
    } catch (...) {
      doc_ = std::move(out["sections"]);
      throw;
    }
    doc_ = std::move(out["sections"]);
    dirty_ = false;
  }
  auto fail = [&](const std::string& what) {
    if (error) *error = what + ": " + std::strerror(errno);
    std::lock_guard lock(mu_);
    dirty_ = true;  // try again next time
    return false;
  };
  const std::string tmp = path_ + ".tmp";
  // A new file, never one found at the path: a symlink planted there must not get its target
  // overwritten. A temp file a crash left behind is removed first (the unlink removes a
  // symlink itself, not its target); O_EXCL fails on whatever is still or again there, and
  // an unlink that failed (read-only file system, a directory) shows as the open's error.
  ::unlink(tmp.c_str());
  int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
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
