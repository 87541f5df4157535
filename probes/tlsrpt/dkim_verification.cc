#include "probes/tlsrpt/dkim_verification.h"

// dkim.h is C and spells bool as _Bool, which C++ does not know.
#define _Bool bool
#include <opendkim/dkim.h>
#undef _Bool

#include <algorithm>
#include <cctype>
#include <cstring>
#include <map>
#include <optional>
#include <stdexcept>

#include "probes/dns/records.h"

namespace mailtls::tlsrpt {

std::string_view to_string(DkimSignatureStatus s) {
  switch (s) {
    case DkimSignatureStatus::kValid: return "valid";
    case DkimSignatureStatus::kBadSignature: return "bad_signature";
    case DkimSignatureStatus::kKeyNotFound: return "key_not_found";
    case DkimSignatureStatus::kKeyTemporary: return "key_temporary";
    case DkimSignatureStatus::kKeyRevoked: return "key_revoked";
    case DkimSignatureStatus::kKeyWrongService: return "key_wrong_service";
  }
  return "bad_signature";
}

struct DkimVerifier::Library {
  DKIM_LIB* lib = nullptr;
  ~Library() {
    if (lib != nullptr) dkim_close(lib);
  }
};

namespace {

std::string lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  while (!out.empty() && out.back() == '.') out.pop_back();
  return out;
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front()))) s.remove_prefix(1);
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.remove_suffix(1);
  return s;
}

// What our key lookup found for one signature; the status overrides the library's verdict
// when the key could not be used.
struct KeyLookup {
  std::string domain, selector;
  std::optional<DkimSignatureStatus> status;  // empty: the key was handed to the library
  dns::Security security = dns::Security::kIndeterminate;
  std::string detail;
};

// One check(): what the key-lookup callback needs and what it found, per signature.
struct CheckContext {
  dns::Resolver* resolver = nullptr;
  Deadline deadline = Deadline::never();
  std::chrono::milliseconds per_lookup{0};
  std::map<const DKIM_SIGINFO*, KeyLookup> lookups;
};

// The key record's s= (service types, RFC 6376 §3.6.1) must allow TLS-RPT: absent, "*" or
// "tlsrpt" (RFC 8460 §5.3 and §7). libopendkim knows only "email", so a record it would
// refuse for naming only "tlsrpt" is handed over with s=*. Returns false when s= names
// neither; `record` is rewritten in place.
bool allow_tlsrpt_service(std::string& record) {
  std::string out;
  bool allowed = true;
  std::string_view rest = record;
  while (!rest.empty()) {
    const auto semi = rest.find(';');
    const std::string_view field = rest.substr(0, semi);
    rest = semi == std::string_view::npos ? std::string_view{} : rest.substr(semi + 1);
    const auto eq = field.find('=');
    if (eq != std::string_view::npos && trim(field.substr(0, eq)) == "s") {
      bool tlsrpt = false;
      std::string_view types = field.substr(eq + 1);
      while (!types.empty()) {
        const auto colon = types.find(':');
        const std::string_view t = trim(types.substr(0, colon));
        if (t == "*" || t == "tlsrpt") tlsrpt = true;
        types = colon == std::string_view::npos ? std::string_view{} : types.substr(colon + 1);
      }
      allowed = tlsrpt;
      out += "s=*";
    } else {
      out += field;
    }
    if (semi != std::string_view::npos) out += ';';
  }
  record = std::move(out);
  return allowed;
}

// libopendkim's key-lookup callback: the TXT record at <selector>._domainkey.<domain> through
// our resolver, bounded by the check's deadline.
DKIM_CBSTAT lookup_key(DKIM* dkim, DKIM_SIGINFO* sig, u_char* buf, size_t buflen) {
  auto* ctx = static_cast<CheckContext*>(dkim_get_user_context(dkim));
  if (ctx == nullptr || buflen == 0) return DKIM_CBSTAT_ERROR;
  KeyLookup& found = ctx->lookups[sig];
  const char* selector = reinterpret_cast<const char*>(dkim_sig_getselector(sig));
  const char* domain = reinterpret_cast<const char*>(dkim_sig_getdomain(sig));
  if (selector == nullptr || domain == nullptr) {
    found.status = DkimSignatureStatus::kBadSignature;
    found.detail = "signature without d= or s=";
    return DKIM_CBSTAT_NOTFOUND;
  }
  found.domain = lower(domain);
  found.selector = selector;
  const std::string name = std::string(selector) + "._domainkey." + domain;
  const dns::Answer a = ctx->resolver->lookup(name, dns::RrType::kTxt, ctx->deadline.capped(ctx->per_lookup));
  found.security = a.security;
  if (a.outcome == dns::Outcome::kNxDomain || a.outcome == dns::Outcome::kNoData) {
    found.status = DkimSignatureStatus::kKeyNotFound;
    found.detail = "no key at " + name + " (" + std::string(dns::to_string(a.outcome)) + ")";
    return DKIM_CBSTAT_NOTFOUND;
  }
  if (!a.usable()) {
    found.status = DkimSignatureStatus::kKeyTemporary;
    found.detail = "key lookup of " + name + " failed: " + std::string(dns::to_string(a.security)) +
                   (a.reason.empty() ? "" : ", " + a.reason);
    return DKIM_CBSTAT_TRYAGAIN;
  }
  const auto txt = dns::decode_txt(a);
  if (txt.records.empty()) {
    found.status = DkimSignatureStatus::kKeyNotFound;
    found.detail = "no readable TXT record at " + name;
    return DKIM_CBSTAT_NOTFOUND;
  }
  // Several records: RFC 6376 §3.6.2.2 lets a verifier use any; the first is used.
  std::string record = txt.records.front();
  if (!allow_tlsrpt_service(record)) {
    found.status = DkimSignatureStatus::kKeyWrongService;
    found.detail = "key at " + name + " is not for TLS-RPT (s= lists neither * nor tlsrpt)";
    return DKIM_CBSTAT_NOTFOUND;
  }
  if (record.size() >= buflen) {
    found.status = DkimSignatureStatus::kBadSignature;
    found.detail = "key record at " + name + " is too long";
    return DKIM_CBSTAT_NOTFOUND;
  }
  std::memcpy(buf, record.data(), record.size());
  buf[record.size()] = '\0';
  return DKIM_CBSTAT_CONTINUE;
}

// Lines with CRLF ends, as DKIM canonicalisation requires (a Maildir file has LF ends).
std::string with_crlf(std::string_view message) {
  std::string out;
  out.reserve(message.size() + message.size() / 32);
  for (std::size_t i = 0; i < message.size(); ++i) {
    if (message[i] == '\n' && (i == 0 || message[i - 1] != '\r')) out += '\r';
    out += message[i];
  }
  return out;
}

bool is_dkim_signature_field(std::string_view field) {
  constexpr std::string_view kName = "dkim-signature:";
  if (field.size() < kName.size()) return false;
  for (std::size_t i = 0; i < kName.size(); ++i) {
    if (std::tolower(static_cast<unsigned char>(field[i])) != kName[i]) return false;
  }
  return true;
}

struct DkimHandle {
  DKIM* dkim = nullptr;
  ~DkimHandle() {
    if (dkim != nullptr) dkim_free(dkim);
  }
};

}  // namespace

DkimVerifier::DkimVerifier(dns::Resolver& resolver, DkimVerifierOptions options)
    : resolver_(resolver), options_(options), library_(std::make_unique<Library>()) {
  library_->lib = dkim_init(nullptr, nullptr);
  if (library_->lib == nullptr) throw std::runtime_error("dkim_init failed");
  if (dkim_set_key_lookup(library_->lib, lookup_key) != DKIM_STAT_OK) {
    throw std::runtime_error("dkim_set_key_lookup failed");
  }
}

DkimVerifier::~DkimVerifier() = default;

DkimChecks DkimVerifier::check(std::string_view message) const {
  DkimChecks out;
  const std::string crlf = with_crlf(message);
  auto header_end = crlf.find("\r\n\r\n");
  const bool has_body = header_end != std::string::npos;
  if (!has_body) header_end = crlf.size();

  CheckContext ctx;
  ctx.resolver = &resolver_;
  ctx.per_lookup = options_.key_lookup_timeout;
  ctx.deadline = Deadline::after(options_.key_lookup_timeout * static_cast<long>(options_.max_signatures));

  DKIM_STAT stat = DKIM_STAT_OK;
  DkimHandle h;
  h.dkim = dkim_verify(library_->lib, reinterpret_cast<const u_char*>("tlsrpt"), nullptr, &stat);
  if (h.dkim == nullptr) {
    out.error = std::string("dkim_verify: ") + dkim_getresultstr(stat);
    return out;
  }
  dkim_set_user_context(h.dkim, &ctx);

  // Header fields, each with its continuation lines and without its final CRLF.
  std::size_t signatures = 0;
  std::size_t pos = 0;
  const std::string_view head(crlf.data(), header_end);
  while (pos < head.size()) {
    std::size_t end = pos;
    do {
      const auto eol = head.find("\r\n", end);
      end = eol == std::string_view::npos ? head.size() : eol;
      if (end + 2 < head.size() && (head[end + 2] == ' ' || head[end + 2] == '\t')) {
        end += 2;
        continue;
      }
      break;
    } while (true);
    std::string field(head.substr(pos, end - pos));
    pos = end + 2;
    if (field.empty()) continue;
    if (is_dkim_signature_field(field) && ++signatures > options_.max_signatures) continue;
    stat = dkim_header(h.dkim, reinterpret_cast<u_char*>(field.data()), field.size());
    if (stat != DKIM_STAT_OK) {
      out.error = std::string("header rejected by libopendkim: ") + dkim_getresultstr(stat);
      return out;
    }
  }
  stat = dkim_eoh(h.dkim);
  // Keys are fetched here already; NOSIG also means "no signature whose key could be had".
  if (stat == DKIM_STAT_NOSIG && ctx.lookups.empty() && signatures == 0) return out;
  if (stat == DKIM_STAT_OK) {
    std::string body = has_body ? crlf.substr(header_end + 4) : std::string();
    if (!body.empty()) stat = dkim_body(h.dkim, reinterpret_cast<u_char*>(body.data()), body.size());
    if (stat == DKIM_STAT_OK) {
      bool testkey = false;
      stat = dkim_eom(h.dkim, &testkey);
    }
  }
  DKIM_SIGINFO** sigs = nullptr;
  int nsigs = 0;
  if (dkim_getsiglist(h.dkim, &sigs, &nsigs) != DKIM_STAT_OK || sigs == nullptr) nsigs = 0;
  const bool lookup_failed = stat == DKIM_STAT_CBTRYAGAIN || stat == DKIM_STAT_CBERROR;
  for (int i = 0; i < nsigs; ++i) {
    DKIM_SIGINFO* sig = sigs[i];
    DkimSignatureCheck c;
    if (const u_char* d = dkim_sig_getdomain(sig)) c.domain = lower(reinterpret_cast<const char*>(d));
    if (const u_char* s = dkim_sig_getselector(sig)) c.selector = reinterpret_cast<const char*>(s);
    c.body_length_limited = dkim_sig_gettagvalue(sig, false, reinterpret_cast<u_char*>(const_cast<char*>("l"))) != nullptr;
    const auto found = ctx.lookups.find(sig);
    if (found != ctx.lookups.end()) c.key_security = found->second.security;
    if (found != ctx.lookups.end() && found->second.status) {
      c.status = *found->second.status;
      c.detail = found->second.detail;
    } else if ((dkim_sig_getflags(sig) & DKIM_SIGFLAG_PASSED) != 0 && dkim_sig_getbh(sig) == DKIM_SIGBH_MATCH) {
      c.status = DkimSignatureStatus::kValid;
    } else if (found == ctx.lookups.end() && lookup_failed && dkim_sig_geterror(sig) == DKIM_SIGERROR_UNKNOWN) {
      c.status = DkimSignatureStatus::kKeyTemporary;  // not reached: an earlier lookup failed
      c.detail = "not checked: an earlier key lookup failed";
    } else {
      c.status = DkimSignatureStatus::kBadSignature;
      const int err = dkim_sig_geterror(sig);
      c.detail = err == DKIM_SIGERROR_OK && dkim_sig_getbh(sig) == DKIM_SIGBH_MISMATCH
                     ? "body hash mismatch"
                     : (dkim_sig_geterrorstr(err) != nullptr ? dkim_sig_geterrorstr(err) : "signature does not verify");
    }
    out.signatures.push_back(std::move(c));
  }
  if (nsigs == 0) {
    // libopendkim gives no list when no key could be had: what our lookups found is the answer.
    for (const auto& [sig, found] : ctx.lookups) {
      DkimSignatureCheck c;
      c.domain = found.domain;
      c.selector = found.selector;
      c.status = found.status.value_or(DkimSignatureStatus::kBadSignature);
      c.key_security = found.security;
      c.detail = found.detail;
      out.signatures.push_back(std::move(c));
    }
  }
  if (out.signatures.empty() && signatures > 0) {
    out.error = std::string("libopendkim: ") + dkim_getresultstr(stat) + " (" + std::to_string(signatures) +
                " DKIM-Signature fields, none usable)";
  }
  return out;
}

}  // namespace mailtls::tlsrpt
