#include "probes/smtp/reply_parser.h"

#include <gtest/gtest.h>

#include <string>

namespace mailtls::smtp {
namespace {

SmtpReply parse_ok(std::string_view bytes) {
  SmtpReply reply;
  ReplyError error = ReplyError::kNone;
  EXPECT_EQ(parse_reply(bytes, &reply, &error), ReplyParser::State::kComplete)
      << "error " << to_string(error);
  return reply;
}

ReplyError parse_error(std::string_view bytes, ReplyLimits limits = {}) {
  SmtpReply reply;
  ReplyError error = ReplyError::kNone;
  EXPECT_EQ(parse_reply(bytes, &reply, &error, limits), ReplyParser::State::kError);
  return error;
}

// docs/verdicts.md S1 vector.
TEST(ReplyParser, S1MultilineEhloOffersStarttls) {
  const SmtpReply r = parse_ok("250-mx.example.com\r\n250-PIPELINING\r\n250 STARTTLS\r\n");
  EXPECT_EQ(r.code, 250);
  ASSERT_EQ(r.lines.size(), 3u);
  EXPECT_EQ(r.lines[0], "mx.example.com");
  const EhloCapabilities caps = parse_ehlo_capabilities(r);
  EXPECT_EQ(caps.greeting, "mx.example.com");
  EXPECT_TRUE(caps.has("STARTTLS"));
  EXPECT_TRUE(caps.has("pipelining"));
  EXPECT_FALSE(caps.has("SMTPUTF8"));
}

TEST(ReplyParser, S1StarttlsRefusedWith454) {
  const SmtpReply r = parse_ok("454 4.7.0 TLS not available\r\n");
  EXPECT_EQ(r.code, 454);
  ASSERT_EQ(r.lines.size(), 1u);
  EXPECT_EQ(r.lines[0], "4.7.0 TLS not available");
}

TEST(ReplyParser, LowerCaseStarttlsContinuationLine) {
  const SmtpReply r = parse_ok("250-mx.example.com\r\n250-starttls\r\n250 8BITMIME\r\n");
  const EhloCapabilities caps = parse_ehlo_capabilities(r);
  EXPECT_TRUE(caps.has("STARTTLS"));
  EXPECT_EQ(caps.keywords, (std::vector<std::string>{"STARTTLS", "8BITMIME"}));
}

TEST(ReplyParser, SingleLineEhloHasNoCapabilities) {
  // The greeting line is not a capability even if it says STARTTLS.
  const EhloCapabilities caps = parse_ehlo_capabilities(parse_ok("250 STARTTLS\r\n"));
  EXPECT_FALSE(caps.has("STARTTLS"));
}

TEST(ReplyParser, KeywordsWithParametersAndOldAuthSyntax) {
  const EhloCapabilities caps = parse_ehlo_capabilities(
      parse_ok("250-mx\r\n250-SIZE 10240000\r\n250-AUTH=LOGIN PLAIN\r\n250 Starttls\r\n"));
  EXPECT_EQ(caps.keywords, (std::vector<std::string>{"SIZE", "AUTH", "STARTTLS"}));
}

TEST(ReplyParser, MultilineBannerAsPostscreenSendsIt) {
  const SmtpReply r = parse_ok("220-mx.example.com ESMTP\r\n220-please wait\r\n220 ready\r\n");
  EXPECT_EQ(r.code, 220);
  EXPECT_EQ(r.lines.size(), 3u);
  EXPECT_EQ(r.text(), "mx.example.com ESMTP\nplease wait\nready");
}

TEST(ReplyParser, CodeOnlyLineAndBareLf) {
  EXPECT_EQ(parse_ok("250\r\n").lines, std::vector<std::string>{""});
  EXPECT_EQ(parse_ok("220 hi\n").lines, std::vector<std::string>{"hi"});
}

TEST(ReplyParser, EightBitTextIsKeptByteForByte) {
  const std::string text = "mx \xc3\xa9t\xe9 \xff\x01";
  const SmtpReply r = parse_ok("220 " + text + "\r\n");
  EXPECT_EQ(r.lines[0], text);
}

TEST(ReplyParser, IncrementalFeedStopsAtTheEndOfTheReply) {
  ReplyParser p;
  std::size_t used = 0;
  EXPECT_EQ(p.feed("250-mx.exa", &used), ReplyParser::State::kNeedMore);
  EXPECT_EQ(used, 10u);
  EXPECT_EQ(p.feed("mple.com\r", &used), ReplyParser::State::kNeedMore);
  const std::string rest = "\n250 STARTTLS\r\n220 next reply";
  EXPECT_EQ(p.feed(rest, &used), ReplyParser::State::kComplete);
  EXPECT_EQ(rest.substr(used), "220 next reply");  // not consumed
  EXPECT_EQ(p.reply().lines, (std::vector<std::string>{"mx.example.com", "STARTTLS"}));
  p.reset();
  EXPECT_EQ(p.feed("220 ok\r\n", &used), ReplyParser::State::kComplete);
  EXPECT_EQ(p.reply().code, 220);
}

TEST(ReplyParser, InconsistentCodesAreAnError) {
  EXPECT_EQ(parse_error("250-mx\r\n251 STARTTLS\r\n"), ReplyError::kInconsistentCode);
}

TEST(ReplyParser, MalformedLines) {
  EXPECT_EQ(parse_error("hello there\r\n"), ReplyError::kMalformedLine);
  EXPECT_EQ(parse_error("25\r\n"), ReplyError::kMalformedLine);
  EXPECT_EQ(parse_error("250_x\r\n"), ReplyError::kMalformedLine);
  EXPECT_EQ(parse_error("650 x\r\n"), ReplyError::kMalformedLine);
  EXPECT_EQ(parse_error("\r\n"), ReplyError::kMalformedLine);
}

TEST(ReplyParser, TenThousandContinuationLinesAreAnError) {
  std::string many;
  for (int i = 0; i < 10'000; ++i) many += "250-X" + std::to_string(i) + "\r\n";
  many += "250 STARTTLS\r\n";
  ReplyParser p;
  std::size_t used = 0;
  EXPECT_EQ(p.feed(many, &used), ReplyParser::State::kError);
  EXPECT_EQ(p.error(), ReplyError::kTooManyLines);
  EXPECT_LT(used, many.size());  // stopped early, did not read it all
  EXPECT_NE(p.error_message().find("200"), std::string::npos);
}

TEST(ReplyParser, EndlessLineWithoutCrlfIsAnErrorAsSoonAsItIsTooLong) {
  ReplyParser p;
  std::size_t used = 0;
  const std::string chunk(1000, 'x');
  EXPECT_EQ(p.feed("220 " + chunk, &used), ReplyParser::State::kNeedMore);
  EXPECT_EQ(p.feed(chunk, &used), ReplyParser::State::kNeedMore);
  EXPECT_EQ(p.feed(chunk, &used), ReplyParser::State::kError);  // past 2048 bytes
  EXPECT_EQ(p.error(), ReplyError::kLineTooLong);
  EXPECT_EQ(p.feed(chunk, &used), ReplyParser::State::kError);
  EXPECT_EQ(used, 0u);
}

TEST(ReplyParser, LineOfExactlyTheLimitIsAccepted) {
  ReplyLimits limits;
  limits.max_line_bytes = 16;
  const std::string line = "250 " + std::string(10, 'a') + "\r\n";  // 16 bytes with CRLF
  SmtpReply r;
  EXPECT_EQ(parse_reply(line, &r, nullptr, limits), ReplyParser::State::kComplete);
  EXPECT_EQ(parse_error("250 " + std::string(11, 'a') + "\r\n", limits), ReplyError::kLineTooLong);
}

TEST(ReplyParser, ReplyByteLimit) {
  ReplyLimits limits;
  limits.max_reply_bytes = 100;
  std::string reply;
  for (int i = 0; i < 20; ++i) reply += "250-ABCDEFGH\r\n";
  EXPECT_EQ(parse_error(reply, limits), ReplyError::kReplyTooLong);
}

}  // namespace
}  // namespace mailtls::smtp
