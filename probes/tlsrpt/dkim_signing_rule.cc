#include "probes/tlsrpt/dkim_signing_rule.h"

#include <cctype>

namespace mailtls::tlsrpt {
namespace {

std::string normalised(std::string_view name) {
  std::string out(name);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  while (!out.empty() && out.back() == '.') out.pop_back();
  return out;
}

DkimVerdict verdict(DkimResult result, const DkimSignatureCheck* sig, std::string reason) {
  DkimVerdict v;
  v.result = result;
  if (sig != nullptr) {
    v.signing_domain = sig->domain;
    v.key_security = sig->key_security;
  }
  v.reason = std::move(reason);
  return v;
}

std::string describe(const DkimSignatureCheck& s) {
  return "d=" + s.domain + " s=" + s.selector + ": " + std::string(to_string(s.status)) +
         (s.detail.empty() ? "" : " (" + s.detail + ")");
}

}  // namespace

std::string_view to_string(DkimResult r) {
  switch (r) {
    case DkimResult::kPass: return "pass";
    case DkimResult::kFail: return "fail";
    case DkimResult::kNoSignature: return "no_signature";
    case DkimResult::kTemporary: return "temporary";
    case DkimResult::kPolicy: return "policy";
  }
  return "fail";
}

bool signing_domain_covers(std::string_view signing_domain, std::string_view reporting_domain) {
  const std::string d = normalised(signing_domain), r = normalised(reporting_domain);
  if (d.empty() || r.empty()) return false;
  return r == d || (r.size() > d.size() && r.ends_with(d) && r[r.size() - d.size() - 1] == '.');
}

DkimVerdict judge_dkim(const DkimChecks& checks, const std::vector<std::string>& reporting_domains) {
  if (checks.signatures.empty()) {
    if (!checks.error.empty()) return verdict(DkimResult::kFail, nullptr, "message could not be checked: " + checks.error);
    return verdict(DkimResult::kNoSignature, nullptr, "no DKIM-Signature");
  }
  std::vector<std::string> names;
  for (const auto& r : reporting_domains) {
    if (!normalised(r).empty()) names.push_back(normalised(r));
  }
  const auto covers_all = [&names](const DkimSignatureCheck& s) {
    if (names.empty()) return false;
    for (const auto& r : names) {
      if (!signing_domain_covers(s.domain, r)) return false;
    }
    return true;
  };
  const DkimSignatureCheck* temporary = nullptr;
  const DkimSignatureCheck* failed = nullptr;
  const DkimSignatureCheck* refused = nullptr;  // by the reporting domain, but l= or s=
  for (const auto& s : checks.signatures) {
    if (!covers_all(s)) continue;
    if (s.status == DkimSignatureStatus::kKeyWrongService) {
      if (refused == nullptr) refused = &s;
      continue;
    }
    if (s.status == DkimSignatureStatus::kValid) {
      if (!s.body_length_limited) return verdict(DkimResult::kPass, &s, describe(s));
      if (refused == nullptr) refused = &s;
      continue;
    }
    if (s.status == DkimSignatureStatus::kKeyNotFound || s.status == DkimSignatureStatus::kKeyTemporary) {
      if (temporary == nullptr) temporary = &s;
    } else if (failed == nullptr) {
      failed = &s;
    }
  }
  if (temporary != nullptr) return verdict(DkimResult::kTemporary, temporary, describe(*temporary));
  if (failed != nullptr) return verdict(DkimResult::kFail, failed, describe(*failed));
  if (refused != nullptr) {
    return verdict(DkimResult::kPolicy, refused,
                   describe(*refused) + (refused->body_length_limited ? ", signs only part of the body (l=)" : ""));
  }
  std::string joined;
  for (const auto& r : names) joined += (joined.empty() ? "" : ", ") + r;
  return verdict(DkimResult::kPolicy, &checks.signatures.front(),
                 "no signature by the reporting domain (" + (joined.empty() ? std::string("unknown") : joined) +
                     "); first: " + describe(checks.signatures.front()));
}

}  // namespace mailtls::tlsrpt
