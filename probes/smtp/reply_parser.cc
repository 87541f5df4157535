#include "probes/smtp/reply_parser.h"

#include <algorithm>
#include <cctype>

namespace mailtls::smtp {

namespace {

bool is_digit(char c) { return c >= '0' && c <= '9'; }

std::string upper(std::string_view s) {
  std::string out(s);
  for (char& c : out) {
    if (c >= 'a' && c <= 'z') c = static_cast<char>(c - 'a' + 'A');
  }
  return out;
}

// A short, printable excerpt of hostile input for an error message.
std::string excerpt(std::string_view s) {
  std::string out;
  for (char c : s.substr(0, 40)) {
    const auto u = static_cast<unsigned char>(c);
    out += (u >= 0x20 && u < 0x7f) ? c : '?';
  }
  if (s.size() > 40) out += "...";
  return out;
}

}  // namespace

std::string SmtpReply::text() const {
  std::string out;
  for (std::size_t i = 0; i < lines.size(); ++i) {
    if (i) out += '\n';
    out += lines[i];
  }
  return out;
}

std::string_view to_string(ReplyError e) {
  switch (e) {
    case ReplyError::kNone: return "none";
    case ReplyError::kLineTooLong: return "line_too_long";
    case ReplyError::kTooManyLines: return "too_many_lines";
    case ReplyError::kReplyTooLong: return "reply_too_long";
    case ReplyError::kMalformedLine: return "malformed_line";
    case ReplyError::kInconsistentCode: return "inconsistent_code";
  }
  return "unknown";
}

void ReplyParser::reset() {
  state_ = State::kNeedMore;
  line_.clear();
  reply_bytes_ = 0;
  reply_ = SmtpReply{};
  error_ = ReplyError::kNone;
  error_message_.clear();
}

void ReplyParser::fail(ReplyError e, std::string message) {
  state_ = State::kError;
  error_ = e;
  error_message_ = std::move(message);
}

ReplyParser::State ReplyParser::feed(std::string_view bytes, std::size_t* consumed) {
  std::size_t used = 0;
  while (state_ == State::kNeedMore && used < bytes.size()) {
    const char c = bytes[used++];
    if (++reply_bytes_ > limits_.max_reply_bytes) {
      fail(ReplyError::kReplyTooLong,
           "reply longer than " + std::to_string(limits_.max_reply_bytes) + " bytes");
      break;
    }
    if (c == '\n') {
      finish_line();
      continue;
    }
    line_.push_back(c);
    if (line_.size() >= limits_.max_line_bytes) {
      fail(ReplyError::kLineTooLong, "reply line longer than " +
                                         std::to_string(limits_.max_line_bytes) +
                                         " bytes: " + excerpt(line_));
    }
  }
  if (consumed) *consumed = used;
  return state_;
}

void ReplyParser::finish_line() {
  // CRLF is the terminator; a bare LF is accepted (some servers send it), a CR is dropped.
  if (!line_.empty() && line_.back() == '\r') line_.pop_back();
  const std::string_view line = line_;
  if (line.size() < 3 || !is_digit(line[0]) || !is_digit(line[1]) || !is_digit(line[2]) ||
      line[0] < '1' || line[0] > '5' || (line.size() > 3 && line[3] != ' ' && line[3] != '-')) {
    fail(ReplyError::kMalformedLine, "not an SMTP reply line: \"" + excerpt(line) + "\"");
    return;
  }
  const int code = (line[0] - '0') * 100 + (line[1] - '0') * 10 + (line[2] - '0');
  if (reply_.lines.empty()) {
    reply_.code = code;
  } else if (code != reply_.code) {
    fail(ReplyError::kInconsistentCode, "continuation line with code " + std::to_string(code) +
                                            " in a " + std::to_string(reply_.code) + " reply");
    return;
  }
  if (reply_.lines.size() >= limits_.max_lines) {
    fail(ReplyError::kTooManyLines,
         "reply with more than " + std::to_string(limits_.max_lines) + " lines");
    return;
  }
  const bool last = line.size() == 3 || line[3] == ' ';
  reply_.lines.emplace_back(line.size() > 4 ? line.substr(4) : std::string_view{});
  line_.clear();
  if (last) state_ = State::kComplete;
}

bool EhloCapabilities::has(std::string_view keyword) const {
  const std::string wanted = upper(keyword);
  return std::find(keywords.begin(), keywords.end(), wanted) != keywords.end();
}

EhloCapabilities parse_ehlo_capabilities(const SmtpReply& reply) {
  EhloCapabilities caps;
  if (reply.lines.empty()) return caps;
  caps.greeting = reply.lines.front();
  for (std::size_t i = 1; i < reply.lines.size(); ++i) {
    const std::string& line = reply.lines[i];
    caps.lines.push_back(line);
    // ehlo-keyword = (ALPHA / DIGIT) *(ALPHA / DIGIT / "-"); params follow after SP.
    std::size_t start = 0;
    while (start < line.size() && line[start] == ' ') ++start;
    std::size_t end = start;
    while (end < line.size() && line[end] != ' ' && line[end] != '=') ++end;
    if (end > start) caps.keywords.push_back(upper(std::string_view(line).substr(start, end - start)));
  }
  return caps;
}

ReplyParser::State parse_reply(std::string_view bytes, SmtpReply* out, ReplyError* error,
                               ReplyLimits limits) {
  ReplyParser parser(limits);
  std::size_t consumed = 0;
  const auto state = parser.feed(bytes, &consumed);
  if (out) *out = parser.reply();
  if (error) *error = parser.error();
  return state;
}

}  // namespace mailtls::smtp
