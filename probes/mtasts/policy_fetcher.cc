#include "probes/mtasts/policy_fetcher.h"

#include <curl/curl.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include <algorithm>
#include <cstdio>
#include <ctime>
#include <mutex>
#include <utility>

#include "probes/base/sha256.h"
#include "probes/base/special_address.h"
#include "probes/dns/records.h"
#include "probes/tls/openssl_ptr.h"

namespace mailtls::mtasts {

struct CurlPolicyFetcher::ExtraRoots {
  std::vector<X509Ptr> certificates;
};

namespace {

using CurlPtr = std::unique_ptr<CURL, FnDeleter<curl_easy_cleanup>>;
using CurlSlistPtr = std::unique_ptr<curl_slist, FnDeleter<curl_slist_free_all>>;

// What one transfer's callbacks share.
struct Transfer {
  std::string body;
  std::size_t max_body_bytes = 0;
  bool too_large = false;
  const std::vector<X509Ptr>* extra_roots = nullptr;
  std::optional<SystemTime> leaf_not_after;
};

char lower(char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c; }

std::string to_lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = lower(c);
  return out;
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

// Letters, digits, hyphens and dots only: the name goes into a URL and a CURLOPT_RESOLVE entry.
bool plausible_domain(std::string_view d) {
  if (d.empty() || d.size() > 245 || d.front() == '.' || d.find("..") != std::string_view::npos) {
    return false;
  }
  return std::all_of(d.begin(), d.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '.';
  });
}

std::optional<SystemTime> not_after_of(const X509* cert) {
  const ASN1_TIME* t = X509_get0_notAfter(cert);
  std::tm tm{};
  if (t == nullptr || ASN1_TIME_to_tm(t, &tm) != 1) return std::nullopt;
  return std::chrono::system_clock::from_time_t(timegm(&tm));
}

size_t write_body(char* data, size_t size, size_t count, void* user) {
  auto* t = static_cast<Transfer*>(user);
  const std::size_t n = size * count;
  if (t->body.size() + n > t->max_body_bytes) {
    t->too_large = true;
    return 0;  // anything but n aborts the transfer with CURLE_WRITE_ERROR
  }
  t->body.append(data, n);
  return n;
}

int transfer_index() {
  static const int index = SSL_CTX_get_ex_new_index(0, nullptr, nullptr, nullptr, nullptr);
  return index;
}

// Called for every certificate OpenSSL verifies, also when verification fails: the target
// certificate of the store context is the leaf, so its not_after is known even for an expired or
// untrusted chain. Never changes the verdict.
int remember_leaf(int preverify_ok, X509_STORE_CTX* store_ctx) {
  auto* ssl = static_cast<SSL*>(
      X509_STORE_CTX_get_ex_data(store_ctx, SSL_get_ex_data_X509_STORE_CTX_idx()));
  if (ssl == nullptr) return preverify_ok;
  auto* t = static_cast<Transfer*>(SSL_CTX_get_ex_data(SSL_get_SSL_CTX(ssl), transfer_index()));
  X509* leaf = X509_STORE_CTX_get0_cert(store_ctx);
  if (t != nullptr && leaf != nullptr && !t->leaf_not_after) t->leaf_not_after = not_after_of(leaf);
  return preverify_ok;
}

// libcurl has loaded the system roots into this (per-connection) SSL_CTX; add ours beside them.
CURLcode prepare_ssl_ctx(CURL*, void* ssl_ctx, void* user) {
  auto* ctx = static_cast<SSL_CTX*>(ssl_ctx);
  auto* t = static_cast<Transfer*>(user);
  X509_STORE* store = SSL_CTX_get_cert_store(ctx);
  for (const auto& cert : *t->extra_roots) {
    X509_STORE_add_cert(store, cert.get());  // a duplicate is refused harmlessly
  }
  ERR_clear_error();
  SSL_CTX_set_ex_data(ctx, transfer_index(), t);
  SSL_CTX_set_verify(ctx, SSL_CTX_get_verify_mode(ctx), remember_leaf);
  return CURLE_OK;
}

PolicyFetchFailure classify(CURLcode code) {
  switch (code) {
    case CURLE_OPERATION_TIMEDOUT: return PolicyFetchFailure::kTimeout;
    case CURLE_COULDNT_CONNECT:
    case CURLE_COULDNT_RESOLVE_HOST:
    case CURLE_SEND_ERROR:
    case CURLE_RECV_ERROR:
    case CURLE_GOT_NOTHING:
    case CURLE_PARTIAL_FILE: return PolicyFetchFailure::kConnect;
    case CURLE_PEER_FAILED_VERIFICATION: return PolicyFetchFailure::kTlsWebPki;
    case CURLE_SSL_CONNECT_ERROR:
    case CURLE_SSL_CIPHER:
    case CURLE_SSL_ENGINE_NOTFOUND:
    case CURLE_SSL_ENGINE_SETFAILED:
    case CURLE_SSL_CERTPROBLEM:
    case CURLE_USE_SSL_FAILED: return PolicyFetchFailure::kTls;
    case CURLE_FILESIZE_EXCEEDED: return PolicyFetchFailure::kTooLarge;
    default: return PolicyFetchFailure::kInvalid;
  }
}

PolicyFetchResult failed(PolicyFetchResult r, PolicyFetchFailure f, std::string message) {
  r.ok = false;
  r.failure = f;
  r.result_type = std::string(rfc8460_result_type(f));
  r.message = std::move(message);
  return r;
}

}  // namespace

std::string_view to_string(PolicyFetchFailure f) {
  switch (f) {
    case PolicyFetchFailure::kNone: return "none";
    case PolicyFetchFailure::kDns: return "dns";
    case PolicyFetchFailure::kConnect: return "connect";
    case PolicyFetchFailure::kTls: return "tls";
    case PolicyFetchFailure::kTlsWebPki: return "tls_webpki";
    case PolicyFetchFailure::kHttpStatus: return "http_status";
    case PolicyFetchFailure::kRedirect: return "redirect";
    case PolicyFetchFailure::kContentType: return "content_type";
    case PolicyFetchFailure::kTooLarge: return "too_large";
    case PolicyFetchFailure::kTimeout: return "timeout";
    case PolicyFetchFailure::kInvalid: return "invalid";
  }
  return "invalid";
}

std::string_view rfc8460_result_type(PolicyFetchFailure f) {
  switch (f) {
    case PolicyFetchFailure::kNone: return "";
    case PolicyFetchFailure::kTls:
    case PolicyFetchFailure::kTlsWebPki: return "sts-webpki-invalid";
    case PolicyFetchFailure::kContentType: return "sts-policy-invalid";
    default: return "sts-policy-fetch-error";
  }
}

bool acceptable_policy_content_type(std::string_view content_type) {
  std::string_view rest = content_type;
  const std::size_t semi = rest.find(';');
  const std::string media = to_lower(trim(rest.substr(0, semi)));
  if (media != "text/plain") return false;
  while (semi != std::string_view::npos && !rest.empty()) {
    const std::size_t start = rest.find(';');
    if (start == std::string_view::npos) break;
    rest.remove_prefix(start + 1);
    const std::size_t end = rest.find(';');
    const std::string_view param = trim(rest.substr(0, end));
    const std::size_t eq = param.find('=');
    if (eq != std::string_view::npos && to_lower(trim(param.substr(0, eq))) == "charset") {
      std::string_view value = trim(param.substr(eq + 1));
      if (value.size() >= 2 && value.front() == '"' && value.back() == '"') {
        value = value.substr(1, value.size() - 2);
      }
      const std::string charset = to_lower(value);
      if (charset != "utf-8" && charset != "us-ascii") return false;
    }
  }
  return true;
}

CurlPolicyFetcher::Creation CurlPolicyFetcher::create(dns::Resolver& resolver,
                                                      PolicyFetcherSettings settings) {
  static std::once_flag curl_initialised;
  std::call_once(curl_initialised, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });

  auto roots = std::make_shared<ExtraRoots>();
  for (const auto& file : settings.extra_ca_files) {
    BioPtr bio(BIO_new_file(file.c_str(), "r"));
    if (!bio) return {nullptr, "cannot read CA file " + file};
    std::size_t found = 0;
    while (X509* cert = PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr)) {
      roots->certificates.emplace_back(cert);
      ++found;
    }
    ERR_clear_error();  // the loop ends on a "no start line" error at end of file
    if (found == 0) return {nullptr, "no PEM certificate in CA file " + file};
  }
  if (settings.port <= 0 || settings.port > 65535) {
    return {nullptr, "port out of range: " + std::to_string(settings.port)};
  }
  return {std::unique_ptr<CurlPolicyFetcher>(
              new CurlPolicyFetcher(resolver, std::move(settings), std::move(roots))),
          ""};
}

CurlPolicyFetcher::CurlPolicyFetcher(dns::Resolver& resolver, PolicyFetcherSettings settings,
                                     std::shared_ptr<const ExtraRoots> roots)
    : resolver_(resolver), settings_(std::move(settings)), extra_roots_(std::move(roots)) {}

CurlPolicyFetcher::~CurlPolicyFetcher() = default;

PolicyFetchResult CurlPolicyFetcher::fetch(std::string_view policy_domain, Deadline deadline) {
  PolicyFetchResult r;
  std::string domain = to_lower(policy_domain);
  if (domain.ends_with('.')) domain.pop_back();
  const std::string host = "mta-sts." + domain;
  const std::string port = std::to_string(settings_.port);
  r.url = "https://" + host + (settings_.port == 443 ? "" : ":" + port) +
          "/.well-known/mta-sts.txt";
  if (!plausible_domain(domain)) {
    return failed(std::move(r), PolicyFetchFailure::kInvalid,
                  "not a valid policy domain: \"" + std::string(policy_domain) + "\"");
  }

  // Addresses through our resolver; bogus or failed answers are not used.
  std::string lookup_errors;
  for (dns::RrType type : {dns::RrType::kA, dns::RrType::kAaaa}) {
    const dns::Answer a = resolver_.lookup(host, type, deadline);
    if (a.usable()) {
      for (auto& address : dns::decode_address(a).records) r.addresses.push_back(address);
    } else if (a.failed()) {
      if (!lookup_errors.empty()) lookup_errors += "; ";
      lookup_errors += std::string(dns::to_string(type)) + " " +
                       std::string(dns::to_string(a.security)) + " " +
                       std::string(dns::to_string(a.outcome)) +
                       (a.reason.empty() ? "" : " (" + a.reason + ")");
    }
  }
  if (r.addresses.empty()) {
    return failed(std::move(r), PolicyFetchFailure::kDns,
                  lookup_errors.empty() ? host + " has no A or AAAA record"
                                        : host + " address lookup failed: " + lookup_errors);
  }
  // The same rule as for MX addresses: never connect to loopback, private and other
  // special-purpose addresses a hostile record names, unless the operator allowed it.
  if (!settings_.connect_special_addresses) {
    std::string refused;
    std::erase_if(r.addresses, [&refused](const std::string& ip) {
      if (!is_special_purpose_address(ip)) return false;
      refused += (refused.empty() ? "" : ", ") + ip;
      return true;
    });
    if (!refused.empty()) {
      const std::string why = "special-purpose address (smtp.probe_special_addresses is off)";
      if (r.addresses.empty()) {
        return failed(std::move(r), PolicyFetchFailure::kDns,
                      host + " has only addresses that are not connected to: " + refused + ": " + why);
      }
      r.warnings.push_back("not connecting to " + refused + " of " + host + ": " + why);
    }
  }
  if (deadline.expired()) {
    return failed(std::move(r), PolicyFetchFailure::kTimeout, "deadline reached before connecting");
  }

  std::string pinned = host + ":" + port + ":";
  for (std::size_t i = 0; i < r.addresses.size(); ++i) {
    const std::string& ip = r.addresses[i];
    if (i > 0) pinned += ",";
    pinned += ip.find(':') != std::string::npos ? "[" + ip + "]" : ip;
  }
  CurlSlistPtr resolve(curl_slist_append(nullptr, pinned.c_str()));
  CurlPtr curl(curl_easy_init());
  if (!curl || !resolve) {
    return failed(std::move(r), PolicyFetchFailure::kInvalid, "libcurl initialisation failed");
  }

  Transfer transfer;
  transfer.max_body_bytes = settings_.max_body_bytes;
  transfer.extra_roots = &extra_roots_->certificates;
  char error_buffer[CURL_ERROR_SIZE] = {};
  const long total_ms = std::max<long>(1, static_cast<long>(deadline.remaining().count()));
  const long connect_ms =
      std::max<long>(1, std::min<long>(total_ms, static_cast<long>(settings_.connect_timeout.count())));

  CURL* c = curl.get();
  curl_easy_setopt(c, CURLOPT_URL, r.url.c_str());
  curl_easy_setopt(c, CURLOPT_RESOLVE, resolve.get());
  curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "https");
  curl_easy_setopt(c, CURLOPT_PROXY, "");  // never a proxy from the environment
  curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 0L);
  curl_easy_setopt(c, CURLOPT_FORBID_REUSE, 1L);
  curl_easy_setopt(c, CURLOPT_HTTP_VERSION, static_cast<long>(CURL_HTTP_VERSION_1_1));
  curl_easy_setopt(c, CURLOPT_SSLVERSION, static_cast<long>(CURL_SSLVERSION_TLSv1_2));
  curl_easy_setopt(c, CURLOPT_SSL_VERIFYPEER, 1L);
  curl_easy_setopt(c, CURLOPT_SSL_VERIFYHOST, 2L);
  curl_easy_setopt(c, CURLOPT_CA_CACHE_TIMEOUT, 0L);  // our roots go into a fresh store each time
  curl_easy_setopt(c, CURLOPT_SSL_CTX_FUNCTION, prepare_ssl_ctx);
  curl_easy_setopt(c, CURLOPT_SSL_CTX_DATA, &transfer);
  curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, write_body);
  curl_easy_setopt(c, CURLOPT_WRITEDATA, &transfer);
  curl_easy_setopt(c, CURLOPT_MAXFILESIZE_LARGE,
                   static_cast<curl_off_t>(settings_.max_body_bytes));
  curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, total_ms);
  curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, connect_ms);
  curl_easy_setopt(c, CURLOPT_LOW_SPEED_LIMIT, settings_.low_speed_bytes_per_second);
  curl_easy_setopt(c, CURLOPT_LOW_SPEED_TIME, static_cast<long>(settings_.low_speed_time.count()));
  curl_easy_setopt(c, CURLOPT_USERAGENT, settings_.user_agent.c_str());
  curl_easy_setopt(c, CURLOPT_ERRORBUFFER, error_buffer);

  const CURLcode code = curl_easy_perform(c);

  r.cert_not_after = transfer.leaf_not_after;
  curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &r.http_status);
  if (char* ct = nullptr; curl_easy_getinfo(c, CURLINFO_CONTENT_TYPE, &ct) == CURLE_OK && ct) {
    r.content_type = ct;
  }
  if (char* loc = nullptr; curl_easy_getinfo(c, CURLINFO_REDIRECT_URL, &loc) == CURLE_OK && loc) {
    r.location = loc;
  }
  if (char* ip = nullptr; curl_easy_getinfo(c, CURLINFO_PRIMARY_IP, &ip) == CURLE_OK && ip) {
    r.connected_address = ip;
  }
  r.body = std::move(transfer.body);

  const bool redirect = r.http_status >= 300 && r.http_status < 400;
  if (redirect) {
    return failed(std::move(r), PolicyFetchFailure::kRedirect,
                  "HTTP " + std::to_string(r.http_status) + " redirect to \"" + r.location +
                      "\": redirects must not be followed (RFC 8461 §3.3)");
  }
  if (code != CURLE_OK) {
    if (transfer.too_large || code == CURLE_FILESIZE_EXCEEDED) {
      return failed(std::move(r), PolicyFetchFailure::kTooLarge,
                    "the policy is too large: more than " +
                        std::to_string(settings_.max_body_bytes) + " bytes");
    }
    const std::string detail = error_buffer[0] != '\0' ? error_buffer : curl_easy_strerror(code);
    return failed(std::move(r), classify(code), detail);
  }
  if (r.http_status != 200) {
    return failed(std::move(r), PolicyFetchFailure::kHttpStatus,
                  "HTTP status " + std::to_string(r.http_status) + " (only 200 is valid)");
  }
  if (!acceptable_policy_content_type(r.content_type)) {
    return failed(std::move(r), PolicyFetchFailure::kContentType,
                  r.content_type.empty()
                      ? std::string("no Content-Type: the policy must be served as text/plain")
                      : "Content-Type \"" + r.content_type +
                            "\" is not text/plain (charset utf-8 or us-ascii)");
  }
  r.ok = true;
  r.body_sha256 = sha256_hex(r.body);
  return r;
}

}  // namespace mailtls::mtasts
