#include "exporter/config/web_config.h"

#include <crypt.h>
#include <openssl/crypto.h>
#include <strings.h>
#include <yaml-cpp/yaml.h>

#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "exporter/config/go_tls_names.h"
#include "exporter/config/tls_server_context.h"

namespace mailtls::exporter {
namespace {

struct WebConfigError {
  std::string message;
};

// A web config file larger than this is refused (it holds a few keys and perhaps some PEM).
constexpr size_t kMaxWebConfigBytes = 4 << 20;

std::string at(const std::string& name, const YAML::Node& n, const std::string& key) {
  std::ostringstream out;
  out << name;
  if (n.IsDefined() && n.Mark().line >= 0) out << ":" << n.Mark().line + 1;
  out << ": " << key << ": ";
  return out.str();
}

// Reads one web config file: each mapping's keys are taken by name, so every key is either
// handled, refused as not supported, or refused as unknown.
class WebConfigReader {
 public:
  explicit WebConfigReader(std::string name) : name_(std::move(name)) {}

  WebConfig read(const YAML::Node& root) {
    WebConfig wc;
    if (root.IsNull()) return wc;
    for_each_key(root, "", [&](const std::string& key, const YAML::Node& k, const YAML::Node& v) {
      if (key == "tls_server_config") {
        wc.tls = read_tls(v);
      } else if (key == "http_server_config") {
        wc.response_headers = read_http(v);
      } else if (key == "basic_auth_users") {
        wc.basic_auth_users = read_users(v);
      } else if (key == "rate_limit") {
        fail(k, key, "not supported");
      } else {
        fail(k, key, "unknown key");
      }
    });
    return wc;
  }

 private:
  [[noreturn]] void fail(const YAML::Node& n, const std::string& key, const std::string& why) const {
    throw WebConfigError{at(name_, n, key) + why};
  }

  template <class F>
  void for_each_key(const YAML::Node& map, const std::string& section, F&& f) const {
    if (!map.IsMap()) fail(map, section.empty() ? "web config" : section, "must be a mapping");
    for (const auto& kv : map) {
      const std::string key = kv.first.Scalar();
      f(key, kv.first, kv.second);
    }
  }

  std::string scalar(const YAML::Node& n, const std::string& key) const {
    if (!n.IsScalar()) fail(n, key, "must be a string");
    return n.Scalar();
  }

  bool boolean(const YAML::Node& n, const std::string& key) const {
    bool b = false;
    if (!n.IsScalar() || !YAML::convert<bool>::decode(n, b)) fail(n, key, "must be true or false");
    return b;
  }

  std::vector<std::string> list(const YAML::Node& n, const std::string& key) const {
    std::vector<std::string> out;
    if (n.IsNull()) return out;
    if (!n.IsSequence()) fail(n, key, "must be a list");
    for (const auto& item : n) out.push_back(scalar(item, key));
    return out;
  }

  std::string file(const YAML::Node& n, const std::string& key) const {
    const std::string p = scalar(n, key);
    if (p.empty() || std::filesystem::path(p).is_absolute()) return p;
    return (std::filesystem::path(name_).parent_path() / p).string();
  }

  int version(const YAML::Node& n, const std::string& key) const {
    const int v = openssl_version_for_go_name(scalar(n, key));
    if (v == 0) fail(n, key, "one of TLS10, TLS11, TLS12, TLS13");
    return v;
  }

  // Go's names joined as OpenSSL's, each refused with its reason.
  template <class Translate>
  std::string openssl_list(const YAML::Node& n, const std::string& key, Translate translate) const {
    std::string out;
    int i = 0;
    for (const auto& go : list(n, key)) {
      const auto t = translate(go);
      if (t.name.empty()) fail(n[i], key, t.error);
      out += (out.empty() ? "" : ":") + t.name;
      ++i;
    }
    return out;
  }

  static std::optional<ClientAuthType> client_auth_type(const std::string& v) {
    if (v == "NoClientCert") return ClientAuthType::kNoClientCert;
    if (v == "RequestClientCert") return ClientAuthType::kRequestClientCert;
    if (v == "RequireAnyClientCert") return ClientAuthType::kRequireAnyClientCert;
    if (v == "VerifyClientCertIfGiven") return ClientAuthType::kVerifyClientCertIfGiven;
    if (v == "RequireAndVerifyClientCert") return ClientAuthType::kRequireAndVerifyClientCert;
    return std::nullopt;
  }

  std::optional<WebTlsConfig> read_tls(const YAML::Node& t) {
    const std::string s = "tls_server_config";
    if (t.IsNull() || (t.IsMap() && t.size() == 0)) return std::nullopt;  // no TLS
    WebTlsConfig tls;
    bool client_auth_given = false;
    for_each_key(t, s, [&](const std::string& key, const YAML::Node& k, const YAML::Node& v) {
      const std::string full = s + "." + key;
      if (key == "cert_file") tls.cert_file = file(v, full);
      else if (key == "key_file") tls.key_file = file(v, full);
      else if (key == "client_ca_file") tls.client_ca_file = file(v, full);
      else if (key == "cert") tls.cert_pem = scalar(v, full);
      else if (key == "key") tls.key_pem = scalar(v, full);
      else if (key == "client_ca") tls.client_ca_pem = scalar(v, full);
      else if (key == "client_auth_type") {
        const auto a = client_auth_type(scalar(v, full));
        if (!a) {
          fail(v, full, "one of NoClientCert, RequestClientCert, RequireAnyClientCert, "
                        "VerifyClientCertIfGiven, RequireAndVerifyClientCert");
        }
        tls.client_auth = *a;
        client_auth_given = true;
      } else if (key == "client_allowed_sans") tls.client_allowed_sans = list(v, full);
      else if (key == "min_version") tls.min_version = version(v, full);
      else if (key == "max_version") tls.max_version = version(v, full);
      else if (key == "cipher_suites") tls.cipher_list = openssl_list(v, full, openssl_cipher_for_go_suite);
      else if (key == "prefer_server_cipher_suites") tls.prefer_server_cipher_suites = boolean(v, full);
      else if (key == "curve_preferences") tls.groups_list = openssl_list(v, full, openssl_group_for_go_curve);
      else fail(k, full, "unknown key");
    });
    const auto both = [&](const std::string& file, const std::string& inline_pem, const char* key) {
      if (!file.empty() && !inline_pem.empty()) {
        fail(t, s, std::string("give ") + key + "_file or " + key + ", not both");
      }
      return !file.empty() || !inline_pem.empty();
    };
    if (!both(tls.cert_file, tls.cert_pem, "cert") || !both(tls.key_file, tls.key_pem, "key")) {
      fail(t, s, "cert_file (or cert) and key_file (or key) are required");
    }
    const bool has_ca = both(tls.client_ca_file, tls.client_ca_pem, "client_ca");
    const bool verifies = tls.client_auth == ClientAuthType::kVerifyClientCertIfGiven ||
                          tls.client_auth == ClientAuthType::kRequireAndVerifyClientCert;
    if (verifies && !has_ca) {
      fail(t, s, "client_auth_type " + std::string(tls.client_auth == ClientAuthType::kVerifyClientCertIfGiven
                                                        ? "VerifyClientCertIfGiven" : "RequireAndVerifyClientCert") +
                     " needs client_ca_file (or client_ca)");
    }
    if (has_ca && !client_auth_given) {
      fail(t, s, "client_ca_file (or client_ca) without client_auth_type: say which client certificates to ask for");
    }
    if (!tls.client_allowed_sans.empty() && tls.client_auth != ClientAuthType::kRequireAnyClientCert &&
        tls.client_auth != ClientAuthType::kRequireAndVerifyClientCert) {
      fail(t, s, "client_allowed_sans needs client_auth_type RequireAnyClientCert or RequireAndVerifyClientCert");
    }
    if (tls.min_version && tls.max_version && tls.min_version > tls.max_version) {
      fail(t, s, "min_version is above max_version");
    }
    // Loads it the way the server will, so a bad pair or a setting OpenSSL refuses fails now.
    std::string error;
    const auto pem = read_tls_pem(tls, &error);
    if (!pem || !make_server_ssl_ctx(tls, *pem, &error)) fail(t, s, error);
    return tls;
  }

  std::vector<std::pair<std::string, std::string>> read_http(const YAML::Node& h) {
    const std::string s = "http_server_config";
    std::vector<std::pair<std::string, std::string>> headers;
    if (h.IsNull()) return headers;
    for_each_key(h, s, [&](const std::string& key, const YAML::Node& k, const YAML::Node& v) {
      const std::string full = s + "." + key;
      if (key == "http2") {
        if (boolean(v, full)) fail(v, full, "not supported: this server speaks HTTP/1.1 only (set false or remove it)");
      } else if (key == "headers") {
        if (v.IsNull()) return;
        for_each_key(v, full, [&](const std::string& name, const YAML::Node& hk, const YAML::Node& hv) {
          headers_entry(name, hk, hv, full + "." + name, &headers);
        });
      } else {
        fail(k, full, "unknown key");
      }
    });
    return headers;
  }

  // The headers exporter-toolkit lets a user set, with its checks of their values.
  void headers_entry(const std::string& name, const YAML::Node& k, const YAML::Node& v, const std::string& full,
                     std::vector<std::pair<std::string, std::string>>* out) const {
    const std::string value = v.IsNull() ? "" : scalar(v, full);
    const auto is = [&](const char* a) { return strcasecmp(value.c_str(), a) == 0; };
    if (name == "X-Frame-Options") {
      if (!value.empty() && !is("deny") && !is("sameorigin")) fail(v, full, "deny or sameorigin");
    } else if (name == "X-Content-Type-Options") {
      if (!value.empty() && !is("nosniff")) fail(v, full, "nosniff");
    } else if (name != "Content-Security-Policy" && name != "X-XSS-Protection" &&
               name != "Strict-Transport-Security") {
      fail(k, full, "not supported (Content-Security-Policy, X-Frame-Options, X-Content-Type-Options, "
                    "X-XSS-Protection, Strict-Transport-Security)");
    }
    if (value.find_first_of("\r\n") != std::string::npos) fail(v, full, "must be one line");
    if (!value.empty()) out->emplace_back(name, value);  // blank: not sent
  }

  std::map<std::string, std::string> read_users(const YAML::Node& users) const {
    std::map<std::string, std::string> out;
    if (users.IsNull()) return out;
    if (!users.IsMap()) fail(users, "basic_auth_users", "must be a mapping of user: bcrypt hash");
    for (const auto& kv : users) {
      const std::string user = kv.first.Scalar();
      const std::string hash = scalar(kv.second, "basic_auth_users." + user);
      if (hash.size() != 60 || hash.rfind("$2", 0) != 0) {
        fail(kv.second, "basic_auth_users." + user, "must be a bcrypt hash ($2y$...)");
      }
      out[user] = hash;
    }
    return out;
  }

  const std::string name_;
};

}  // namespace

bool bcrypt_matches(const std::string& password, const std::string& hash) {
  if (hash.size() < 7 || hash[0] != '$' || hash[1] != '2') return false;
  crypt_data data;
  std::memset(&data, 0, sizeof data);
  const char* out = crypt_r(password.c_str(), hash.c_str(), &data);
  if (out == nullptr || out[0] == '*') return false;
  const size_t n = std::strlen(out);
  return n == hash.size() && CRYPTO_memcmp(out, hash.data(), n) == 0;
}

WebConfigResult load_web_config_text(const std::string& text, const std::string& name) {
  try {
    YAML::Node root;
    try {
      root = YAML::Load(text);
    } catch (const YAML::ParserException& e) {
      return {std::nullopt, name + ":" + std::to_string(e.mark.line + 1) + ": invalid YAML: " + e.msg};
    }
    return {WebConfigReader(name).read(root), ""};
  } catch (const WebConfigError& e) {
    return {std::nullopt, e.message};
  } catch (const YAML::Exception& e) {
    return {std::nullopt, name + ":" + std::to_string(e.mark.line + 1) + ": " + e.msg};
  }
}

WebConfigResult load_web_config_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return {std::nullopt, path + ": cannot open"};
  std::string text(kMaxWebConfigBytes + 1, '\0');
  in.read(text.data(), static_cast<std::streamsize>(text.size()));
  text.resize(static_cast<size_t>(in.gcount()));
  if (text.size() > kMaxWebConfigBytes) {
    return {std::nullopt, path + ": larger than " + std::to_string(kMaxWebConfigBytes) + " bytes"};
  }
  return load_web_config_text(text, path);
}

}  // namespace mailtls::exporter
