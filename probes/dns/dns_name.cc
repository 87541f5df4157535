#include "probes/dns/dns_name.h"

#include <vector>

namespace mailtls::dns {
namespace {

constexpr std::size_t kMaxLabel = 63;
constexpr std::size_t kMaxWireName = 255;
constexpr std::uint16_t kTypeCname = 5;

std::uint8_t byte_at(std::string_view s, std::size_t i) { return static_cast<std::uint8_t>(s[i]); }

char lower(char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c; }

bool is_digit(char c) { return c >= '0' && c <= '9'; }

// Octets that mean something in presentation format (RFC 1035 §5.1) get a backslash, as
// BIND's dig prints them.
bool needs_backslash(char c) {
  switch (c) {
    case '.': case '\\': case '"': case '(': case ')': case ';': case '@': case '$': return true;
    default: return false;
  }
}

// Reads the name at `pos` in wire form, compression pointers followed (backwards only), each
// label lowered. `pos` ends after the name as it stands there.
bool read_wire_name(std::string_view msg, std::size_t& pos, std::string& wire) {
  wire.clear();
  std::size_t at = pos;
  bool jumped = false;
  for (int steps = 0; steps < 256; ++steps) {
    if (at >= msg.size()) return false;
    const std::uint8_t len = byte_at(msg, at);
    if ((len & 0xC0) == 0xC0) {
      if (at + 1 >= msg.size()) return false;
      const std::size_t target = (static_cast<std::size_t>(len & 0x3F) << 8) | byte_at(msg, at + 1);
      if (target >= at) return false;  // forward or self pointer: a loop in waiting
      if (!jumped) pos = at + 2;
      jumped = true;
      at = target;
      continue;
    }
    if ((len & 0xC0) != 0) return false;  // obsolete extended label types
    if (msg.size() - at - 1 < len) return false;
    if (wire.size() + 1 + len > kMaxWireName) return false;
    wire.push_back(static_cast<char>(len));
    for (std::size_t i = 0; i < len; ++i) wire.push_back(lower(msg[at + 1 + i]));
    at += 1 + len;
    if (len == 0) {
      if (!jumped) pos = at;
      return true;
    }
  }
  return false;
}

std::string wire_to_presentation(std::string_view wire) {
  std::string out;
  std::size_t at = 0;
  while (at < wire.size()) {
    const std::size_t len = byte_at(wire, at);
    if (len == 0) break;
    if (!out.empty()) out.push_back('.');
    append_presentation_label(out, wire.substr(at + 1, len));
    at += 1 + len;
  }
  return out;
}

bool read_u16(std::string_view msg, std::size_t& pos, std::uint16_t& v) {
  if (pos > msg.size() || msg.size() - pos < 2) return false;
  v = static_cast<std::uint16_t>((byte_at(msg, pos) << 8) | byte_at(msg, pos + 1));
  pos += 2;
  return true;
}

}  // namespace

void append_presentation_label(std::string& out, std::string_view label) {
  for (char raw : label) {
    const char c = lower(raw);
    const auto b = static_cast<std::uint8_t>(c);
    if (b <= 0x20 || b >= 0x7F) {
      out.push_back('\\');
      out.push_back(static_cast<char>('0' + b / 100));
      out.push_back(static_cast<char>('0' + b / 10 % 10));
      out.push_back(static_cast<char>('0' + b % 10));
    } else {
      if (needs_backslash(c)) out.push_back('\\');
      out.push_back(c);
    }
  }
}

std::optional<std::string> presentation_to_wire(std::string_view name) {
  name = without_root_dot(name);
  std::string wire;
  std::string label;
  auto end_label = [&]() {
    if (label.empty() || label.size() > kMaxLabel) return false;
    wire.push_back(static_cast<char>(label.size()));
    wire += label;
    label.clear();
    return wire.size() + 1 <= kMaxWireName;
  };
  for (std::size_t i = 0; i < name.size(); ++i) {
    const char c = name[i];
    if (c == '.') {
      if (!end_label()) return std::nullopt;
      continue;
    }
    if (c != '\\') {
      label.push_back(lower(c));
      continue;
    }
    if (i + 1 >= name.size()) return std::nullopt;  // a lone backslash at the end
    if (is_digit(name[i + 1])) {
      if (name.size() - i < 4 || !is_digit(name[i + 2]) || !is_digit(name[i + 3])) return std::nullopt;
      const int v = (name[i + 1] - '0') * 100 + (name[i + 2] - '0') * 10 + (name[i + 3] - '0');
      if (v > 255) return std::nullopt;
      label.push_back(lower(static_cast<char>(v)));
      i += 3;
    } else {
      label.push_back(lower(name[i + 1]));
      i += 1;
    }
  }
  if (!name.empty() && !end_label()) return std::nullopt;
  wire.push_back('\0');
  return wire;
}

std::string_view without_root_dot(std::string_view name) {
  if (!name.ends_with('.')) return name;
  // The dot is escaped when an odd number of backslashes stands before it.
  std::size_t backslashes = 0;
  for (std::size_t i = name.size() - 1; i > 0 && name[i - 1] == '\\'; --i) ++backslashes;
  if (backslashes % 2 == 1) return name;
  name.remove_suffix(1);
  return name;
}

bool is_host_name(std::string_view name) {
  name = without_root_dot(name);
  if (name.empty() || name.size() > 253) return false;
  std::size_t label = 0;
  for (char c : name) {
    if (c == '.') {
      if (label == 0) return false;
      label = 0;
      continue;
    }
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || is_digit(c) || c == '-' ||
                    c == '_';
    if (!ok || ++label > kMaxLabel) return false;
  }
  return label > 0;
}

bool read_message_name(std::string_view message, std::size_t& pos, std::string& out) {
  std::string wire;
  if (!read_wire_name(message, pos, wire)) return false;
  out = wire_to_presentation(wire);
  return true;
}

std::optional<std::string> canonical_name_in_message(std::string_view message,
                                                     std::string_view qname) {
  const auto asked = presentation_to_wire(qname);
  if (!asked) return std::nullopt;
  std::size_t pos = 4;
  std::uint16_t qdcount = 0;
  std::uint16_t ancount = 0;
  if (message.size() < 12 || !read_u16(message, pos, qdcount) || !read_u16(message, pos, ancount)) {
    return std::nullopt;
  }
  pos = 12;
  std::string question;
  if (qdcount != 1 || !read_wire_name(message, pos, question) || question != *asked) {
    return std::nullopt;
  }
  pos += 4;  // QTYPE, QCLASS
  // Every CNAME of the answer section as (owner, target), in wire form.
  std::vector<std::pair<std::string, std::string>> cnames;
  for (std::uint16_t i = 0; i < ancount; ++i) {
    std::string owner;
    std::uint16_t type = 0;
    std::uint16_t rdlength = 0;
    if (!read_wire_name(message, pos, owner) || !read_u16(message, pos, type)) return std::nullopt;
    pos += 6;  // CLASS, TTL
    if (!read_u16(message, pos, rdlength) || message.size() - pos < rdlength) return std::nullopt;
    if (type == kTypeCname) {
      std::size_t at = pos;
      std::string target;
      if (!read_wire_name(message, at, target)) return std::nullopt;
      cnames.emplace_back(std::move(owner), std::move(target));
    }
    pos += rdlength;
  }
  std::string current = question;
  // Resolvers follow a few CNAMEs (unbound: 11); the bound keeps a hostile chain linear.
  for (int hops = 0; hops < 32; ++hops) {
    bool moved = false;
    for (const auto& [owner, target] : cnames) {
      if (owner == current) {
        current = target;
        moved = true;
        break;
      }
    }
    if (!moved) break;
  }
  return wire_to_presentation(current);
}

}  // namespace mailtls::dns
