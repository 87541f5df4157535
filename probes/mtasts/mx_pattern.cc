#include "probes/mtasts/mx_pattern.h"

#include "probes/dns/dns_name.h"

namespace mailtls::mtasts {
namespace {

char lower(char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c; }

bool equal_nocase(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    if (lower(a[i]) != lower(b[i])) return false;
  }
  return true;
}

std::string_view without_root_dot(std::string_view s) {
  if (s.ends_with('.')) s.remove_suffix(1);
  return s;
}

}  // namespace

bool mx_pattern_matches(std::string_view pattern, std::string_view mx_host) {
  // An MX host whose labels hold octets other than letters, digits, '-' and '_' (written with
  // escapes, dns/dns_name.h) is no host name RFC 6125 matches: "a\.b.example" must match
  // neither "*.b.example" nor a pattern that spells the same escapes.
  if (!dns::is_host_name(mx_host)) return false;
  pattern = without_root_dot(pattern);
  mx_host = without_root_dot(mx_host);
  if (pattern.empty() || mx_host.empty()) return false;
  if (!pattern.starts_with("*.")) {
    // A '*' anywhere else is not a wildcard; such a pattern never matches a host name.
    if (pattern.find('*') != std::string_view::npos) return false;
    return equal_nocase(pattern, mx_host);
  }
  const std::string_view suffix = pattern.substr(1);  // ".example.com"
  if (suffix.size() < 2 || suffix.find('*') != std::string_view::npos) return false;
  if (mx_host.size() <= suffix.size()) return false;
  const std::string_view first_label = mx_host.substr(0, mx_host.size() - suffix.size());
  if (first_label.find('.') != std::string_view::npos) return false;  // exactly one label
  return equal_nocase(mx_host.substr(first_label.size()), suffix);
}

std::vector<MxCoverage> check_mx_coverage(const std::vector<std::string>& patterns,
                                          const std::vector<std::string>& mx_hosts) {
  std::vector<MxCoverage> out;
  out.reserve(mx_hosts.size());
  for (const auto& host : mx_hosts) {
    MxCoverage c;
    c.mx_host = host;
    for (const auto& p : patterns) {
      if (mx_pattern_matches(p, host)) {
        c.covered = true;
        c.matched_pattern = p;
        break;
      }
    }
    out.push_back(std::move(c));
  }
  return out;
}

}  // namespace mailtls::mtasts
