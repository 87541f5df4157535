#include "probes/tlsrpt/report_intake.h"

#include <algorithm>
#include <cctype>
#include <limits>
#include <unordered_map>

#include "probes/base/sha256.h"

namespace mailtls::tlsrpt {
namespace {

IntakeResult rejected(RejectionReason reason, std::string message) {
  IntakeResult r;
  r.rejection = Rejection{reason, std::move(message)};
  return r;
}

// "Application/TLSRPT+GZIP; charset=x" → "application/tlsrpt+gzip".
std::string media_type_of(std::string_view content_type) {
  std::string_view t = content_type.substr(0, content_type.find(';'));
  while (!t.empty() && (t.front() == ' ' || t.front() == '\t')) t.remove_prefix(1);
  while (!t.empty() && (t.back() == ' ' || t.back() == '\t')) t.remove_suffix(1);
  std::string out(t);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

// Length in bytes of the UTF-8 sequence starting at s[i], or 0 if it is not valid UTF-8
// (overlongs, surrogates and code points above U+10FFFF included).
std::size_t utf8_sequence_length(std::string_view s, std::size_t i, std::uint32_t& cp) {
  const auto b = [&](std::size_t k) { return static_cast<unsigned char>(s[k]); };
  const unsigned char c = b(i);
  std::size_t len = 0;
  if (c < 0x80) {
    cp = c;
    return 1;
  }
  if (c >= 0xc2 && c <= 0xdf) {
    len = 2;
    cp = c & 0x1fu;
  } else if (c >= 0xe0 && c <= 0xef) {
    len = 3;
    cp = c & 0x0fu;
  } else if (c >= 0xf0 && c <= 0xf4) {
    len = 4;
    cp = c & 0x07u;
  } else {
    return 0;
  }
  if (i + len > s.size()) return 0;
  for (std::size_t k = 1; k < len; ++k) {
    if ((b(i + k) & 0xc0u) != 0x80u) return 0;
    cp = (cp << 6) | (b(i + k) & 0x3fu);
  }
  if ((len == 3 && (cp < 0x800 || (cp >= 0xd800 && cp <= 0xdfff))) || (len == 4 && (cp < 0x10000 || cp > 0x10ffff))) {
    return 0;
  }
  return len;
}

std::uint64_t saturating_add(std::uint64_t a, std::uint64_t b) {
  return a > std::numeric_limits<std::uint64_t>::max() - b ? std::numeric_limits<std::uint64_t>::max() : a + b;
}

// Merges increments with the same identifying fields. Indexed, because a report may hold
// 10,000 policies and a linear search per increment made that quadratic.
class Increments {
 public:
  void add(CounterIncrement inc) {
    std::string key{static_cast<char>(inc.counter), static_cast<char>(inc.policy_type),
                    static_cast<char>(inc.result), static_cast<char>(inc.result_type)};
    key += inc.organization;
    key += '\0';
    key += inc.policy_domain;
    const auto [it, inserted] = index_.try_emplace(std::move(key), out_.size());
    if (!inserted) {
      out_[it->second].amount = saturating_add(out_[it->second].amount, inc.amount);
      return;
    }
    out_.push_back(std::move(inc));
  }
  std::vector<CounterIncrement> take() { return std::move(out_); }

 private:
  std::vector<CounterIncrement> out_;
  std::unordered_map<std::string, std::size_t> index_;
};

std::string domain_label(std::string_view domain) {
  std::string d(domain);
  for (char& c : d) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  while (!d.empty() && d.back() == '.') d.pop_back();
  return sanitize_label_value(d, kMaxDomainChars);
}

std::string domain_of_contact(std::string_view contact) {
  const auto at = contact.rfind('@');
  std::string_view d = at == std::string_view::npos ? contact : contact.substr(at + 1);
  if (d.starts_with("mailto:")) d.remove_prefix(7);
  std::string out(d);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

}  // namespace

std::string sanitize_label_value(std::string_view value, std::size_t max_chars) {
  std::string out;
  std::size_t chars = 0;
  for (std::size_t i = 0; i < value.size() && chars < max_chars; ++chars) {
    std::uint32_t cp = 0;
    const std::size_t len = utf8_sequence_length(value, i, cp);
    if (len == 0) {
      out.push_back('_');
      ++i;
      continue;
    }
    if (cp < 0x20 || cp == 0x7f || (cp >= 0x80 && cp <= 0x9f)) {
      out.push_back('_');
    } else {
      out.append(value.substr(i, len));
    }
    i += len;
  }
  if (out.empty()) return "unknown";
  return out;
}

IntakeResult ReportIntake::accept(std::string_view body, std::string_view content_type) const {
  if (body.size() > limits_.max_body_bytes) {
    return rejected(RejectionReason::kTooLarge, "body is " + std::to_string(body.size()) +
                                                    " bytes, over the limit of " +
                                                    std::to_string(limits_.max_body_bytes));
  }
  const std::string type = media_type_of(content_type);
  const bool strict_gzip = type == "application/tlsrpt+gzip";
  const bool known = strict_gzip || type == "application/tlsrpt+json";
  const bool lenient = type == "application/json" || type == "application/gzip" || type == "application/x-gzip";
  if (!known && !lenient) {
    return rejected(RejectionReason::kBadContentType,
                    "Content-Type \"" + std::string(content_type.substr(0, 100)) + "\" is not a TLS-RPT report type");
  }
  IntakeResult result;
  if (lenient) result.notes.push_back("lenient Content-Type " + type + " accepted (RFC 8460 §5.4 names application/tlsrpt+gzip or +json)");

  std::string inflated;
  std::string_view json = body;
  // JSON never begins with 0x1f, so the magic decides unambiguously; only a body declared as
  // +gzip must be gzip (docs/verdicts.md R3: a non-gzip body under +gzip is a delivery failure).
  if (looks_like_gzip(body)) {
    GunzipResult g = gunzip(body, GunzipLimits{limits_.max_body_bytes, limits_.max_decompressed_bytes});
    if (!g.ok()) {
      return rejected(g.error == GunzipError::kOutputTooLarge ? RejectionReason::kDecompressedTooLarge
                                                              : RejectionReason::kBadGzip,
                      g.message);
    }
    if (!strict_gzip && type != "application/gzip" && type != "application/x-gzip") {
      result.notes.push_back("gzip body under Content-Type " + type);
    }
    inflated = std::move(g.output);
    json = inflated;
  } else if (strict_gzip || type == "application/gzip" || type == "application/x-gzip") {
    return rejected(RejectionReason::kBadGzip, "Content-Type " + type + " but the body is not gzip");
  }

  ReportParseLimits parse_limits;
  parse_limits.max_json_bytes = limits_.max_decompressed_bytes;
  ReportParseResult parsed = parse_report(json, parse_limits);
  if (!parsed.ok()) {
    IntakeResult r;
    r.rejection = std::move(parsed.rejection);
    // An uncompressed body over the JSON cap is simply too large.
    return r;
  }
  result.report = std::move(parsed.report);
  return result;
}

namespace {

RejectionReason rejection_for(DkimResult r) {
  switch (r) {
    case DkimResult::kFail: return RejectionReason::kDkimFail;
    case DkimResult::kNoSignature: return RejectionReason::kDkimNoSignature;
    default: return RejectionReason::kDkimPolicy;
  }
}

// Refused, deferred or passed on DKIM grounds; nullopt when the verdict is a pass.
std::optional<IntakeResult> unless_dkim_pass(DkimVerdict verdict, const MailReport& mail) {
  if (verdict.result == DkimResult::kPass) return std::nullopt;
  IntakeResult r;
  if (verdict.result != DkimResult::kTemporary) {
    r.rejection = Rejection{rejection_for(verdict.result),
                            "DKIM " + std::string(to_string(verdict.result)) + " (RFC 8460 §5.3): " + verdict.reason};
  }
  r.dkim = std::move(verdict);
  r.mail = mail;
  return r;
}

}  // namespace

IntakeResult ReportIntake::accept_mail(std::string_view message, const MailAcceptPolicy& policy) const {
  MailExtractResult extracted = extract_mail_report(message, limits_.mail);
  if (!extracted.ok()) {
    IntakeResult r;
    r.rejection = std::move(extracted.rejection);
    return r;
  }
  MailReport& mail = extracted.mail;
  DkimChecks checks;
  if (!policy.allow_unsigned) {
    if (policy.verifier == nullptr) {
      return *unless_dkim_pass(DkimVerdict{DkimResult::kTemporary, "", dns::Security::kIndeterminate,
                                           "no DKIM verifier (the resolver could not be set up)"},
                               mail);
    }
    checks = policy.verifier->check(message);
    // Unsigned or unreadable: refused before the report is looked at.
    if (checks.signatures.empty()) return *unless_dkim_pass(judge_dkim(checks, {}), mail);
  }
  IntakeResult result = accept(mail.report_bytes, mail.content_type);
  if (!result.ok()) {
    result.mail = std::move(mail);
    return result;
  }
  const std::string contact_domain = domain_of_contact(result.report->contact_info);
  if (!policy.allow_unsigned) {
    DkimVerdict verdict = judge_dkim(checks, {mail.tls_report_submitter, contact_domain});
    if (auto refused = unless_dkim_pass(verdict, mail)) return std::move(*refused);
    result.notes.push_back("DKIM pass: " + verdict.reason + ", key " + std::string(dns::to_string(verdict.key_security)));
    result.dkim = std::move(verdict);
  } else {
    result.notes.push_back("unsigned mailed report accepted by policy (allow_unsigned)");
  }
  if (!mail.multipart_report_tlsrpt) {
    result.notes.push_back(mail.bare_body ? "report was the bare message body"
                                          : "message is not multipart/report; report-type=tlsrpt");
  }
  if (mail.tls_report_domain.empty()) result.notes.push_back("TLS-Report-Domain header missing");
  if (mail.tls_report_submitter.empty()) {
    result.notes.push_back("TLS-Report-Submitter header missing");
  } else {
    std::string submitter = mail.tls_report_submitter;
    for (char& c : submitter) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    if (!contact_domain.empty() && submitter != contact_domain) {
      result.notes.push_back("TLS-Report-Submitter \"" + mail.tls_report_submitter +
                             "\" does not match the contact-info domain \"" + contact_domain + "\"");
    }
  }
  result.mail = std::move(mail);
  return result;
}

std::vector<CounterIncrement> aggregate(const TlsRptReport& report) {
  Increments out;
  const std::string organization = sanitize_label_value(report.organization_name, kMaxOrganizationChars);
  for (const PolicyResult& p : report.policies) {
    const std::string policy_domain = domain_label(p.policy_domain);
    out.add({.counter = Counter::kSessions, .organization = organization, .policy_domain = policy_domain,
             .policy_type = p.policy_type_kind, .result = SessionResult::kSuccessful,
             .amount = p.total_successful_session_count});
    out.add({.counter = Counter::kSessions, .organization = organization, .policy_domain = policy_domain,
             .policy_type = p.policy_type_kind, .result = SessionResult::kFailure,
             .amount = p.total_failure_session_count});
    for (const FailureDetail& d : p.failure_details) {
      out.add({.counter = Counter::kFailures, .organization = organization, .policy_domain = policy_domain,
               .result_type = d.result_type_kind, .amount = d.failed_session_count});
    }
  }
  out.add({.counter = Counter::kReports, .organization = organization, .amount = 1});
  return out.take();
}

std::string dedup_key(const TlsRptReport& report) {
  // Every field length-prefixed, so ("ab","c") and ("a","bc") differ.
  std::string material;
  const auto field = [&material](std::string_view v) {
    material += std::to_string(v.size());
    material += ':';
    material += v;
  };
  const auto number = [&field](auto v) { field(std::to_string(v)); };
  field(report.organization_name);
  field(report.report_id);
  field(report.contact_info);
  number(report.start.time_since_epoch().count());
  number(report.end.time_since_epoch().count());
  number(report.policies.size());
  for (const PolicyResult& p : report.policies) {
    field(p.policy_type);
    number(p.policy_strings.size());
    for (const auto& s : p.policy_strings) field(s);
    field(p.policy_domain);
    number(p.mx_hosts.size());
    for (const auto& m : p.mx_hosts) field(m);
    number(p.total_successful_session_count);
    number(p.total_failure_session_count);
    number(p.failure_details.size());
    for (const FailureDetail& d : p.failure_details) {
      for (const std::string* s : {&d.result_type, &d.sending_mta_ip, &d.receiving_mx_hostname, &d.receiving_mx_helo,
                                   &d.receiving_ip, &d.additional_information, &d.failure_reason_code}) {
        field(*s);
      }
      number(d.failed_session_count);
    }
  }
  return sha256_hex(material);
}

}  // namespace mailtls::tlsrpt
