#include "exporter/config/config.h"

#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <charconv>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>

namespace mailtls::exporter {
namespace {

constexpr std::uint64_t kMaxConfigBytes = 16 << 20;
constexpr int kMaxIncludeFiles = 10000;

// Thrown inside the loader only; turned into the ConfigResult's error at the boundary.
struct ConfigError {
  std::string message;
};

class Reader {
 public:
  explicit Reader(std::string file) : file_(std::move(file)) {}

  [[noreturn]] void fail(const YAML::Node& n, const std::string& key, const std::string& msg) const {
    std::ostringstream out;
    out << file_;
    if (n.IsDefined() && n.Mark().line >= 0) out << ":" << n.Mark().line + 1;
    out << ": " << (key.empty() ? "" : key + ": ") << msg;
    throw ConfigError{out.str()};
  }
  std::string where(const YAML::Node& n) const {
    return file_ + ":" + std::to_string(n.Mark().line + 1);
  }

  void expect_map(const YAML::Node& n, const std::string& key,
                  std::initializer_list<const char*> allowed) const {
    if (!n.IsMap()) fail(n, key, "must be a mapping");
    std::set<std::string> ok(allowed.begin(), allowed.end());
    for (const auto& kv : n) {
      if (!kv.first.IsScalar()) fail(kv.first, key, "keys must be plain strings");
      const std::string k = kv.first.Scalar();
      if (!ok.count(k)) {
        std::string list;
        for (const char* a : allowed) list += std::string(list.empty() ? "" : ", ") + a;
        fail(kv.first, key.empty() ? k : key + "." + k,
             "unknown key (allowed here: " + list + ")");
      }
    }
  }

  std::string string(const YAML::Node& n, const std::string& key) const {
    if (!n.IsScalar()) fail(n, key, "must be a string");
    return n.Scalar();
  }
  bool boolean(const YAML::Node& n, const std::string& key) const {
    if (n.IsScalar()) {
      const std::string& s = n.Scalar();
      if (s == "true") return true;
      if (s == "false") return false;
    }
    fail(n, key, "must be true or false");
  }
  std::uint64_t integer(const YAML::Node& n, const std::string& key, std::uint64_t min,
                        std::uint64_t max) const {
    if (n.IsScalar()) {
      const std::string& s = n.Scalar();
      std::uint64_t v = 0;
      auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
      if (ec == std::errc() && p == s.data() + s.size() && !s.empty()) {
        if (v < min || v > max) {
          fail(n, key, "must be between " + std::to_string(min) + " and " + std::to_string(max));
        }
        return v;
      }
    }
    fail(n, key, "must be a whole number");
  }
  // A duration that may be 0 ("0" or "0s"), for options where 0 means "never kept".
  Millis duration_or_zero(const YAML::Node& n, const std::string& key) const {
    if (n.IsScalar() && n.Scalar() == "0") return Millis{0};
    if (n.IsScalar()) {
      if (auto d = parse_duration(n.Scalar())) return *d;
    }
    fail(n, key, "must be 0 or a positive duration such as 30s, 5m or 1h30m");
  }
  Millis duration(const YAML::Node& n, const std::string& key) const {
    if (n.IsScalar()) {
      if (auto d = parse_duration(n.Scalar()); d && d->count() > 0) return *d;
    }
    fail(n, key, "must be a positive duration such as 30s, 5m or 1h30m");
  }
  std::vector<std::string> strings(const YAML::Node& n, const std::string& key) const {
    if (!n.IsSequence()) fail(n, key, "must be a list of strings");
    std::vector<std::string> out;
    for (size_t i = 0; i < n.size(); ++i) {
      out.push_back(string(n[i], key + "[" + std::to_string(i) + "]"));
    }
    return out;
  }
  std::string domain(const YAML::Node& n, const std::string& key) const {
    auto name = normalize_domain_name(string(n, key));
    if (!name) fail(n, key, name.error());
    return *name;
  }
  const std::string& file() const { return file_; }

 private:
  std::string file_;
};

YAML::Node parse_yaml(const std::string& text, const std::string& name) {
  try {
    return YAML::Load(text);
  } catch (const YAML::ParserException& e) {
    std::ostringstream out;
    out << name << ":" << e.mark.line + 1 << ": invalid YAML: " << e.msg;
    throw ConfigError{out.str()};
  }
}

std::string read_file_bounded(const std::string& path) {
  std::error_code ec;
  auto size = std::filesystem::file_size(path, ec);
  if (ec) throw ConfigError{path + ": cannot read: " + ec.message()};
  if (size > kMaxConfigBytes) throw ConfigError{path + ": file larger than 16 MiB"};
  std::ifstream in(path, std::ios::binary);
  if (!in) throw ConfigError{path + ": cannot open"};
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

std::string resolve_relative(const std::string& base_file, const std::string& path) {
  std::filesystem::path p(path);
  if (p.is_absolute()) return path;
  return (std::filesystem::path(base_file).parent_path() / p).lexically_normal().string();
}

void read_resolver(const Reader& r, const YAML::Node& n, dns::ResolverConfig& rc) {
  r.expect_map(n, "resolver",
               {"forwarders", "stub_zones", "use_resolv_conf", "root_trust_anchor_file",
                "trust_anchors", "trust_anchor_files", "self_test_secure_name",
                "self_test_bogus_name", "lookup_timeout"});
  if (n["forwarders"]) rc.forwarders = r.strings(n["forwarders"], "resolver.forwarders");
  if (n["use_resolv_conf"]) rc.use_resolv_conf = r.boolean(n["use_resolv_conf"], "resolver.use_resolv_conf");
  if (n["root_trust_anchor_file"]) {
    rc.root_trust_anchor_file = r.string(n["root_trust_anchor_file"], "resolver.root_trust_anchor_file");
    if (!rc.root_trust_anchor_file.empty()) {
      rc.root_trust_anchor_file = resolve_relative(r.file(), rc.root_trust_anchor_file);
    }
  }
  if (n["trust_anchors"]) rc.trust_anchors = r.strings(n["trust_anchors"], "resolver.trust_anchors");
  if (n["trust_anchor_files"]) {
    for (auto& f : r.strings(n["trust_anchor_files"], "resolver.trust_anchor_files")) {
      rc.trust_anchor_files.push_back(resolve_relative(r.file(), f));
    }
  }
  // Empty means "not set" for the two self-test names.
  if (n["self_test_secure_name"] && !r.string(n["self_test_secure_name"], "resolver.self_test_secure_name").empty()) {
    rc.self_test_secure_name = r.domain(n["self_test_secure_name"], "resolver.self_test_secure_name");
  }
  if (n["self_test_bogus_name"] && !r.string(n["self_test_bogus_name"], "resolver.self_test_bogus_name").empty()) {
    rc.self_test_bogus_name = r.domain(n["self_test_bogus_name"], "resolver.self_test_bogus_name");
  }
  if (n["lookup_timeout"]) rc.lookup_timeout_ms = static_cast<int>(std::min<long long>(r.duration(n["lookup_timeout"], "resolver.lookup_timeout").count(), 600000));
  if (const auto& sz = n["stub_zones"]) {
    if (!sz.IsSequence()) r.fail(sz, "resolver.stub_zones", "must be a list");
    for (size_t i = 0; i < sz.size(); ++i) {
      const std::string key = "resolver.stub_zones[" + std::to_string(i) + "]";
      r.expect_map(sz[i], key, {"zone", "addresses"});
      if (!sz[i]["zone"]) r.fail(sz[i], key, "zone is required");
      if (!sz[i]["addresses"]) r.fail(sz[i], key, "addresses is required");
      dns::StubZone z;
      z.zone = r.domain(sz[i]["zone"], key + ".zone");
      z.addresses = r.strings(sz[i]["addresses"], key + ".addresses");
      if (z.addresses.empty()) r.fail(sz[i]["addresses"], key + ".addresses", "must not be empty");
      rc.stub_zones.push_back(std::move(z));
    }
  }
  for (const auto& f : rc.trust_anchor_files) {
    std::error_code ec;
    if (!std::filesystem::exists(f, ec)) r.fail(n["trust_anchor_files"], "resolver.trust_anchor_files", ec ? "cannot use " + f + ": " + ec.message() : "no such file: " + f);
  }
}

DomainConfig read_domain(const Reader& r, const YAML::Node& n, const std::string& key,
                         const Config& c) {
  DomainConfig d;
  d.interval = c.interval;
  d.timeout = c.timeout;
  if (n.IsScalar()) {
    d.name = r.domain(n, key);
    d.defined_at = r.where(n);
    return d;
  }
  r.expect_map(n, key, {"name", "interval", "timeout", "checks"});
  if (!n["name"]) r.fail(n, key, "name is required");
  d.name = r.domain(n["name"], key + ".name");
  d.defined_at = r.where(n);
  if (n["interval"]) d.interval = r.duration(n["interval"], key + ".interval");
  if (n["timeout"]) d.timeout = r.duration(n["timeout"], key + ".timeout");
  if (n["checks"]) {
    d.check_dane = d.check_mtasts = d.check_tlsrpt = false;
    for (const auto& check : r.strings(n["checks"], key + ".checks")) {
      if (check == "dane") d.check_dane = true;
      else if (check == "mtasts") d.check_mtasts = true;
      else if (check == "tlsrpt") d.check_tlsrpt = true;
      else r.fail(n["checks"], key + ".checks", "unknown check \"" + check + "\" (dane, mtasts, tlsrpt)");
    }
  }
  if (d.timeout > d.interval) r.fail(n, key, "timeout must not exceed interval");
  return d;
}

void read_domain_list(const Reader& r, const YAML::Node& n, const std::string& key, Config& c) {
  if (!n.IsSequence()) r.fail(n, key, "must be a list of domains");
  for (size_t i = 0; i < n.size(); ++i) {
    c.domains.push_back(read_domain(r, n[i], key + "[" + std::to_string(i) + "]", c));
  }
}

Config read_config(const Reader& r, const YAML::Node& root) {
  Config c;
  c.source_file = r.file();
  if (!root.IsDefined() || root.IsNull()) return c;  // an empty file: defaults, no domains
  r.expect_map(root, "",
               {"defaults", "resolver", "smtp", "tls", "mtasts", "tlsrpt_receiver", "metrics",
                "probe_allow_list", "domains", "domain_files"});
  if (const auto& d = root["defaults"]) {
    r.expect_map(d, "defaults", {"interval", "timeout", "concurrency"});
    if (d["interval"]) c.interval = r.duration(d["interval"], "defaults.interval");
    if (d["timeout"]) c.timeout = r.duration(d["timeout"], "defaults.timeout");
    if (d["concurrency"]) c.concurrency = static_cast<int>(r.integer(d["concurrency"], "defaults.concurrency", 1, 10000));
    if (c.timeout > c.interval) r.fail(d, "defaults", "timeout must not exceed interval");
  }
  if (root["resolver"]) read_resolver(r, root["resolver"], c.resolver);
  if (const auto& s = root["smtp"]) {
    r.expect_map(s, "smtp", {"ehlo_name", "port", "probe_special_addresses", "share_observations",
                             "max_sessions_per_address", "min_session_gap",
                             "key_type_recheck_interval"});
    if (s["key_type_recheck_interval"]) c.smtp.key_type_recheck_interval = r.duration_or_zero(s["key_type_recheck_interval"], "smtp.key_type_recheck_interval");
    if (s["max_sessions_per_address"]) c.smtp.max_sessions_per_address = static_cast<int>(r.integer(s["max_sessions_per_address"], "smtp.max_sessions_per_address", 1, 1000));
    if (s["min_session_gap"]) c.smtp.min_session_gap = r.duration(s["min_session_gap"], "smtp.min_session_gap");
    if (s["share_observations"]) c.smtp.share_observations = r.boolean(s["share_observations"], "smtp.share_observations");
    if (s["probe_special_addresses"]) c.smtp.probe_special_addresses = r.boolean(s["probe_special_addresses"], "smtp.probe_special_addresses");
    if (s["ehlo_name"]) c.smtp.ehlo_name = r.domain(s["ehlo_name"], "smtp.ehlo_name");
    if (s["port"]) c.smtp.port = static_cast<std::uint16_t>(r.integer(s["port"], "smtp.port", 1, 65535));
  }
  if (const auto& t = root["tls"]) {
    r.expect_map(t, "tls", {"ca_files"});
    if (t["ca_files"]) {
      for (auto& f : r.strings(t["ca_files"], "tls.ca_files")) {
        f = resolve_relative(r.file(), f);
        std::error_code ec;
        if (!std::filesystem::exists(f, ec)) r.fail(t["ca_files"], "tls.ca_files", ec ? "cannot use " + f + ": " + ec.message() : "no such file: " + f);
        c.tls.ca_files.push_back(f);
      }
    }
  }
  if (const auto& m = root["mtasts"]) {
    r.expect_map(m, "mtasts", {"port"});
    if (m["port"]) c.mtasts.port = static_cast<std::uint16_t>(r.integer(m["port"], "mtasts.port", 1, 65535));
  }
  if (const auto& t = root["tlsrpt_receiver"]) {
    r.expect_map(t, "tlsrpt_receiver", {"enabled", "max_body_bytes", "max_decompressed_bytes", "maildir", "maildir_scan_interval", "dkim_retry", "accept_unsigned_mail", "known_organizations", "max_organizations"});
    if (t["maildir"]) c.tlsrpt_receiver.maildir = resolve_relative(r.file(), r.string(t["maildir"], "tlsrpt_receiver.maildir"));
    if (t["maildir_scan_interval"]) c.tlsrpt_receiver.maildir_scan_interval = r.duration(t["maildir_scan_interval"], "tlsrpt_receiver.maildir_scan_interval");
    if (t["dkim_retry"]) c.tlsrpt_receiver.dkim_retry = r.duration(t["dkim_retry"], "tlsrpt_receiver.dkim_retry");
    if (t["accept_unsigned_mail"]) c.tlsrpt_receiver.accept_unsigned_mail = r.boolean(t["accept_unsigned_mail"], "tlsrpt_receiver.accept_unsigned_mail");
    if (t["enabled"]) c.tlsrpt_receiver.enabled = r.boolean(t["enabled"], "tlsrpt_receiver.enabled");
    if (t["max_body_bytes"]) c.tlsrpt_receiver.max_body_bytes = r.integer(t["max_body_bytes"], "tlsrpt_receiver.max_body_bytes", 1024, 1ull << 30);
    if (t["max_decompressed_bytes"]) c.tlsrpt_receiver.max_decompressed_bytes = r.integer(t["max_decompressed_bytes"], "tlsrpt_receiver.max_decompressed_bytes", 1024, 1ull << 32);
    if (t["known_organizations"]) c.tlsrpt_receiver.known_organizations = r.strings(t["known_organizations"], "tlsrpt_receiver.known_organizations");
    if (t["max_organizations"]) c.tlsrpt_receiver.max_organizations = r.integer(t["max_organizations"], "tlsrpt_receiver.max_organizations", 0, 10000);
  }
  if (const auto& m = root["metrics"]) {
    r.expect_map(m, "metrics", {"profile"});
    if (m["profile"]) {
      const auto profile = parse_metrics_profile(r.string(m["profile"], "metrics.profile"));
      if (!profile) r.fail(m["profile"], "metrics.profile", "must be full or lean");
      c.metrics.profile = *profile;
    }
  }
  if (const auto& list = root["probe_allow_list"]) {
    if (!list.IsSequence()) r.fail(list, "probe_allow_list", "must be a list of strings");
    for (size_t i = 0; i < list.size(); ++i) {
      // "name" or "*.name", the name normalised like a configured domain (lower case, one
      // trailing dot dropped): /probe compares it with the normalised target, so an entry kept
      // as written ("example.org.", "Example.ORG") passed --config.check and never matched.
      const std::string key = "probe_allow_list[" + std::to_string(i) + "]";
      const std::string entry = r.string(list[i], key);
      const bool wildcard = entry.rfind("*.", 0) == 0;
      const auto name = normalize_domain_name(wildcard ? entry.substr(2) : entry);
      if (!name) r.fail(list[i], key, name.error());
      c.probe_allow_list.push_back((wildcard ? "*." : "") + *name);
    }
  }
  if (root["domains"]) read_domain_list(r, root["domains"], "domains", c);
  if (root["domain_files"]) {
    int files = 0;
    for (const auto& pattern : r.strings(root["domain_files"], "domain_files")) {
      // A path or a directory (every *.yml / *.yaml inside, in name order).
      std::string path = resolve_relative(r.file(), pattern);
      std::vector<std::string> paths;
      // The error_code overloads throughout: a path the OS refuses to stat (ENAMETOOLONG,
      // EACCES, ELOOP) is a configuration error, never an exception out of the loader (R6).
      std::error_code ec;
      const auto status = std::filesystem::status(path, ec);
      if (std::filesystem::is_directory(status)) {
        std::filesystem::directory_iterator it(path, ec), end;
        for (; !ec && it != end; it.increment(ec)) {
          auto ext = it->path().extension().string();
          std::error_code file_ec;
          if (it->is_regular_file(file_ec) && (ext == ".yml" || ext == ".yaml")) paths.push_back(it->path().string());
        }
        if (ec) r.fail(root["domain_files"], "domain_files", "cannot list " + path + ": " + ec.message());
        std::sort(paths.begin(), paths.end());
      } else if (std::filesystem::exists(status)) {
        paths.push_back(path);
      } else if (ec && ec != std::errc::no_such_file_or_directory) {
        r.fail(root["domain_files"], "domain_files", "cannot use " + path + ": " + ec.message());
      } else {
        r.fail(root["domain_files"], "domain_files", "no such file or directory: " + path);
      }
      for (const auto& p : paths) {
        if (++files > kMaxIncludeFiles) r.fail(root["domain_files"], "domain_files", "too many files");
        Reader sub(p);
        YAML::Node doc = parse_yaml(read_file_bounded(p), p);
        if (doc.IsNull()) continue;
        if (doc.IsMap()) {
          sub.expect_map(doc, "", {"domains"});
          if (doc["domains"]) read_domain_list(sub, doc["domains"], "domains", c);
        } else {
          read_domain_list(sub, doc, "domains", c);
        }
      }
    }
  }
  std::set<std::string> seen;
  for (const auto& d : c.domains) {
    if (!seen.insert(d.name).second) {
      throw ConfigError{d.defined_at + ": domains: \"" + d.name + "\" is configured twice"};
    }
  }
  return c;
}

}  // namespace

std::optional<Millis> parse_duration(const std::string& text) {
  if (text.empty() || text.size() > 64) return std::nullopt;
  long double total_ms = 0;
  size_t i = 0;
  while (i < text.size()) {
    size_t j = i;
    while (j < text.size() && std::isdigit(static_cast<unsigned char>(text[j]))) ++j;
    if (j == i) return std::nullopt;
    std::uint64_t n = 0;
    auto [p, ec] = std::from_chars(text.data() + i, text.data() + j, n);
    if (ec != std::errc() || p != text.data() + j) return std::nullopt;
    size_t k = j;
    while (k < text.size() && std::isalpha(static_cast<unsigned char>(text[k]))) ++k;
    const std::string unit = text.substr(j, k - j);
    long double ms;
    if (unit == "ms") ms = 1;
    else if (unit == "s") ms = 1000;
    else if (unit == "m") ms = 60e3;
    else if (unit == "h") ms = 3600e3;
    else if (unit == "d") ms = 86400e3;
    else if (unit == "w") ms = 7 * 86400e3;
    else if (unit == "y") ms = 365 * 86400e3;
    else return std::nullopt;
    total_ms += static_cast<long double>(n) * ms;
    if (total_ms > 1e15) return std::nullopt;
    i = k;
  }
  return Millis(static_cast<long long>(total_ms));
}

Expected<std::string, std::string> normalize_domain_name(const std::string& in) {
  auto bad = [&](const std::string& why) -> Expected<std::string, std::string> {
    return Unexpected("invalid domain name \"" + in + "\": " + why);
  };
  std::string name = in;
  if (!name.empty() && name.back() == '.') name.pop_back();
  if (name.empty()) return bad("empty");
  if (name.size() > 253) return bad("longer than 253 characters");
  std::string out;
  size_t label_len = 0;
  for (size_t i = 0; i < name.size(); ++i) {
    unsigned char ch = static_cast<unsigned char>(name[i]);
    if (ch >= 0x80) return bad("not ASCII; write internationalized names as A-labels (xn--...)");
    if (ch == '.') {
      if (label_len == 0) return bad("empty label");
      if (out.back() == '-') return bad("a label ends with '-'");
      label_len = 0;
      out.push_back('.');
      continue;
    }
    if (!(std::isalnum(ch) || ch == '-' || ch == '_')) {
      return bad(std::string("character '") + static_cast<char>(ch) + "' is not allowed");
    }
    if (ch == '-' && label_len == 0) return bad("a label starts with '-'");
    if (++label_len > 63) return bad("a label is longer than 63 characters");
    out.push_back(static_cast<char>(std::tolower(ch)));
  }
  // Only one trailing dot is the root: "example.org.." has an empty last label.
  if (label_len == 0) return bad("empty label");
  if (out.back() == '-') return bad("a label ends with '-'");
  return out;
}

ConfigResult load_config_text(const std::string& text, const std::string& name) {
  try {
    Reader r(name);
    return read_config(r, parse_yaml(text, name));
  } catch (const ConfigError& e) {
    return Unexpected(e.message);
  } catch (const YAML::Exception& e) {
    std::ostringstream out;
    out << name << ":" << e.mark.line + 1 << ": " << e.msg;
    return Unexpected(out.str());
  }
}

ConfigResult load_config_file(const std::string& path) {
  try {
    return load_config_text(read_file_bounded(path), path);
  } catch (const ConfigError& e) {
    return Unexpected(e.message);
  }
}

}  // namespace mailtls::exporter
