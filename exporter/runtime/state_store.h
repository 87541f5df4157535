#pragma once
// State that must survive restarts (TLSA RRset first-seen times, MTA-STS id/content history,
// TLS-RPT counters and seen report ids), kept as one JSON document in <storage>/state.json.
// Writes are atomic: a temp file in the same directory, fsync, rename, fsync of the directory,
// so a crash mid-write leaves the previous file. A corrupt file is set aside, never fatal.
// Thread-safe.

#include <nlohmann/json.hpp>

#include <functional>
#include <mutex>
#include <optional>
#include <string>

namespace mailtls::exporter {

class StateStore {
 public:
  // Loads <dir>/state.json, creating <dir> if needed. `warning` receives what went wrong with an
  // existing file (unreadable, corrupt: renamed to state.json.corrupt-<unix time>).
  static StateStore open(const std::string& dir, std::string* warning);
  // A store that never touches the disk (tests).
  static StateStore in_memory();
  // <dir>/state.json read into a store that never touches the disk: how `check` sees the
  // history a running server keeps (the server owns the file; nothing is created, renamed or
  // written). A missing file is no history; an unusable one too, with `warning` saying why.
  static StateStore read_only(const std::string& dir, std::string* warning);

  StateStore(StateStore&& other) noexcept;

  // A copy of section[key], or null.
  nlohmann::json get(const std::string& section, const std::string& key) const;
  // The whole section (an object), or an empty object.
  nlohmann::json section(const std::string& section) const;
  // Copies of the entries of `section` whose key starts with `prefix` (an object, maybe empty).
  nlohmann::json entries_with_prefix(const std::string& section, const std::string& prefix) const;
  void put(const std::string& section, const std::string& key, nlohmann::json value);
  void erase(const std::string& section, const std::string& key);
  // Read-modify-write of section[key] in one step: `change` gets the entry (null when there is
  // none) and the whole document of sections (read-only), and returns the new entry; null
  // erases it. Concurrent writers of a shared entry merge instead of overwriting each other.
  // `change` runs under the store's lock: it must not call the store.
  using Change = std::function<nlohmann::json(const nlohmann::json& entry, const nlohmann::json& sections)>;
  void update(const std::string& section, const std::string& key, const Change& change);

  // Writes the file if anything changed since the last save; false with a reason on I/O
  // errors (the in-memory state is kept and the next save tries again).
  bool save(std::string* error);
  std::string path() const { return path_; }

 private:
  StateStore() = default;
  // The sections of the state document at `path`; nullopt with `why` when it cannot be used
  // (empty `why`: there is no file).
  static std::optional<nlohmann::json> load_sections(const std::string& path, std::string* why);

  mutable std::mutex mu_;
  // Held for a whole save: concurrent savers (probe workers, the TLS-RPT receiver) share the
  // temp file, and the later save must also write the later snapshot.
  std::mutex save_mu_;
  std::string dir_;
  std::string path_;  // empty: in memory only
  nlohmann::json doc_ = nlohmann::json::object();
  bool dirty_ = false;
};

}  // namespace mailtls::exporter
