#pragma once
// The SMTP reply grammar of RFC 5321 §4.2, read incrementally from a byte stream:
//   Reply-line = *( Reply-code "-" [ textstring ] CRLF ) Reply-code [ SP textstring ] CRLF
// A reply may span many lines (`250-...` continuations, the last line `250 ...`), every line must
// carry the same code, and the text is kept byte for byte (8-bit safe; no charset assumed).
// Peers are hostile: the line length, the number of lines and the reply size are all capped,
// and exceeding a cap is an error as soon as it is visible, never a wait for more input.

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

namespace mailtls::smtp {

struct ReplyLimits {
  std::size_t max_line_bytes = 2048;        // including CRLF; RFC 5321 §4.5.3.1.5 says 512
  std::size_t max_lines = 200;              // a long EHLO reply has ~20
  std::size_t max_reply_bytes = 64 * 1024;  // all lines together
};

struct SmtpReply {
  int code = 0;                    // 100..599
  std::vector<std::string> lines;  // the text after "NNN-" / "NNN " of each line, no CRLF
  // All lines joined with "\n", for messages and logs.
  std::string text() const;
};

enum class ReplyError {
  kNone,
  kLineTooLong,
  kTooManyLines,
  kReplyTooLong,
  kMalformedLine,     // no 3-digit code, or a separator other than SP / "-"
  kInconsistentCode,  // a continuation line with another code than the first line
};

std::string_view to_string(ReplyError e);

// Feeds bytes in, yields one complete reply. Not thread-safe; one per connection.
class ReplyParser {
 public:
  enum class State { kNeedMore, kComplete, kError };

  explicit ReplyParser(ReplyLimits limits = {}) : limits_(limits) {}

  // Consumes bytes up to and including the end of the current reply (never beyond it, so the
  // caller sees what the peer sent after a reply, e.g. before a TLS handshake), and sets
  // *consumed to the count. Once kComplete or kError, further calls consume nothing until reset().
  State feed(std::string_view bytes, std::size_t* consumed);

  State state() const { return state_; }
  const SmtpReply& reply() const { return reply_; }
  ReplyError error() const { return error_; }
  const std::string& error_message() const { return error_message_; }

  // Ready for the next reply.
  void reset();

 private:
  void finish_line();
  void fail(ReplyError e, std::string message);

  ReplyLimits limits_;
  State state_ = State::kNeedMore;
  std::string line_;  // the current line so far, without its LF
  std::size_t reply_bytes_ = 0;
  SmtpReply reply_;
  ReplyError error_ = ReplyError::kNone;
  std::string error_message_;
};

// The EHLO reply (RFC 5321 §4.1.1.1): the first line greets, every later line is
// ehlo-keyword *(SP ehlo-param). Keywords are case-insensitive; they are kept upper-cased.
struct EhloCapabilities {
  std::string greeting;
  std::vector<std::string> keywords;            // upper case, in order
  std::vector<std::string> lines;               // the capability lines as sent
  bool has(std::string_view keyword) const;     // case-insensitive
};

EhloCapabilities parse_ehlo_capabilities(const SmtpReply& reply);

// Convenience for tests and one-shot uses: parse one complete reply from `bytes`.
// Returns kNeedMore if `bytes` ends before the reply does.
ReplyParser::State parse_reply(std::string_view bytes, SmtpReply* out, ReplyError* error,
                               ReplyLimits limits = {});

}  // namespace mailtls::smtp
