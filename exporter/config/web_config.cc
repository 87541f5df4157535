#include "exporter/config/web_config.h"

#include <crypt.h>
#include <openssl/crypto.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <yaml-cpp/yaml.h>

#include <cstring>
#include <filesystem>
#include <fstream>
#include <memory>
#include <sstream>

#include "probes/tls/openssl_ptr.h"

namespace mailtls::exporter {
namespace {

struct WebConfigError {
  std::string message;
};

std::string at(const std::string& name, const YAML::Node& n, const std::string& key) {
  std::ostringstream out;
  out << name;
  if (n.IsDefined() && n.Mark().line >= 0) out << ":" << n.Mark().line + 1;
  out << ": " << key << ": ";
  return out.str();
}

std::string scalar(const std::string& name, const YAML::Node& n, const std::string& key) {
  if (!n.IsScalar()) throw WebConfigError{at(name, n, key) + "must be a string"};
  return n.Scalar();
}

std::string relative_to(const std::string& base, const std::string& p) {
  if (p.empty() || std::filesystem::path(p).is_absolute()) return p;
  return (std::filesystem::path(base).parent_path() / p).string();
}

void check_allowed(const std::string& name, const YAML::Node& n, const std::string& key,
                   std::initializer_list<const char*> allowed) {
  if (!n.IsMap()) throw WebConfigError{at(name, n, key) + "must be a mapping"};
  for (const auto& kv : n) {
    bool ok = false;
    for (const char* a : allowed) ok = ok || kv.first.Scalar() == a;
    if (!ok) {
      throw WebConfigError{at(name, kv.first, key.empty() ? kv.first.Scalar() : key + "." + kv.first.Scalar()) +
                           "unknown key"};
    }
  }
}

// Loads certificate and key the way the server will, so a bad pair fails at start.
void check_key_pair(const WebTlsConfig& t, const std::string& where) {
  SslCtxPtr ctx(SSL_CTX_new(TLS_server_method()));
  if (SSL_CTX_use_certificate_chain_file(ctx.get(), t.cert_file.c_str()) != 1) {
    throw WebConfigError{where + "cannot load certificate " + t.cert_file};
  }
  if (SSL_CTX_use_PrivateKey_file(ctx.get(), t.key_file.c_str(), SSL_FILETYPE_PEM) != 1) {
    throw WebConfigError{where + "cannot load private key " + t.key_file};
  }
  if (SSL_CTX_check_private_key(ctx.get()) != 1) {
    throw WebConfigError{where + "private key " + t.key_file + " does not match certificate " + t.cert_file};
  }
  if (!t.client_ca_file.empty() &&
      SSL_CTX_load_verify_locations(ctx.get(), t.client_ca_file.c_str(), nullptr) != 1) {
    throw WebConfigError{where + "cannot load client CA file " + t.client_ca_file};
  }
}

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
    WebConfig wc;
    if (root.IsNull()) return {wc, ""};
    check_allowed(name, root, "", {"tls_server_config", "basic_auth_users", "http_server_config"});
    if (const auto& t = root["tls_server_config"]) {
      check_allowed(name, t, "tls_server_config",
                    {"cert_file", "key_file", "client_auth_type", "client_ca_file", "min_version",
                     "max_version", "cipher_suites", "prefer_server_cipher_suites", "curve_preferences"});
      WebTlsConfig tls;
      if (!t["cert_file"] || !t["key_file"]) {
        throw WebConfigError{at(name, t, "tls_server_config") + "cert_file and key_file are required"};
      }
      tls.cert_file = relative_to(name, scalar(name, t["cert_file"], "tls_server_config.cert_file"));
      tls.key_file = relative_to(name, scalar(name, t["key_file"], "tls_server_config.key_file"));
      if (t["client_ca_file"]) {
        tls.client_ca_file = relative_to(name, scalar(name, t["client_ca_file"], "tls_server_config.client_ca_file"));
      }
      if (t["client_auth_type"]) {
        const auto v = scalar(name, t["client_auth_type"], "tls_server_config.client_auth_type");
        if (v == "RequireAndVerifyClientCert") {
          tls.require_client_cert = true;
        } else if (v != "NoClientCert") {
          throw WebConfigError{at(name, t["client_auth_type"], "tls_server_config.client_auth_type") +
                               "supported: NoClientCert, RequireAndVerifyClientCert"};
        }
      }
      if (tls.require_client_cert && tls.client_ca_file.empty()) {
        throw WebConfigError{at(name, t, "tls_server_config") + "client_auth_type RequireAndVerifyClientCert needs client_ca_file"};
      }
      if (t["min_version"]) {
        const auto v = scalar(name, t["min_version"], "tls_server_config.min_version");
        if (v == "TLS10") tls.min_version = TLS1_VERSION;
        else if (v == "TLS11") tls.min_version = TLS1_1_VERSION;
        else if (v == "TLS12") tls.min_version = TLS1_2_VERSION;
        else if (v == "TLS13") tls.min_version = TLS1_3_VERSION;
        else throw WebConfigError{at(name, t["min_version"], "tls_server_config.min_version") + "one of TLS10, TLS11, TLS12, TLS13"};
      }
      check_key_pair(tls, at(name, t, "tls_server_config"));
      wc.tls = tls;
    }
    if (const auto& users = root["basic_auth_users"]) {
      if (!users.IsMap()) throw WebConfigError{at(name, users, "basic_auth_users") + "must be a mapping of user: bcrypt hash"};
      for (const auto& kv : users) {
        const std::string user = kv.first.Scalar();
        const std::string hash = scalar(name, kv.second, "basic_auth_users." + user);
        if (hash.size() != 60 || hash.rfind("$2", 0) != 0) {
          throw WebConfigError{at(name, kv.second, "basic_auth_users." + user) + "must be a bcrypt hash ($2y$...)"};
        }
        wc.basic_auth_users[user] = hash;
      }
    }
    return {wc, ""};
  } catch (const WebConfigError& e) {
    return {std::nullopt, e.message};
  } catch (const YAML::Exception& e) {
    return {std::nullopt, name + ":" + std::to_string(e.mark.line + 1) + ": " + e.msg};
  }
}

WebConfigResult load_web_config_file(const std::string& path) {
  std::ifstream in(path);
  if (!in) return {std::nullopt, path + ": cannot open"};
  std::stringstream ss;
  ss << in.rdbuf();
  return load_web_config_text(ss.str(), path);
}

}  // namespace mailtls::exporter
