#include "probes/base/expected.h"

#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <vector>

namespace mailtls {
namespace {

Expected<int, std::string> parse_port(const std::string& text) {
  if (text.empty() || text.size() > 5 || text.find_first_not_of("0123456789") != std::string::npos) {
    return Unexpected("not a port: \"" + text + "\"");
  }
  const int port = std::stoi(text);
  if (port > 65535) return Unexpected(std::string("port out of range"));
  return port;
}

TEST(Expected, HoldsAValue) {
  const auto r = parse_port("25");
  ASSERT_TRUE(r.has_value());
  EXPECT_TRUE(static_cast<bool>(r));
  EXPECT_EQ(r.value(), 25);
  EXPECT_EQ(*r, 25);
  EXPECT_EQ(r.value_or(-1), 25);
  EXPECT_THROW((void)r.error(), BadExpectedAccess);
}

TEST(Expected, HoldsAnError) {
  const auto r = parse_port("smtp");
  ASSERT_FALSE(r.has_value());
  EXPECT_FALSE(static_cast<bool>(r));
  EXPECT_EQ(r.error(), "not a port: \"smtp\"");
  EXPECT_EQ(r.value_or(-1), -1);
  EXPECT_THROW((void)r.value(), BadExpectedAccess);
  EXPECT_THROW((void)*r, BadExpectedAccess);
  EXPECT_EQ(parse_port("70000").error(), "port out of range");
}

TEST(Expected, SameValueAndErrorTypeStayApart) {
  const Expected<std::string, std::string> ok = std::string("value");
  const Expected<std::string, std::string> bad = Unexpected(std::string("value"));
  EXPECT_TRUE(ok.has_value());
  EXPECT_FALSE(bad.has_value());
  EXPECT_EQ(*ok, bad.error());
  EXPECT_NE(ok, bad);  // same text, different alternatives
}

TEST(Expected, ConvertsFromWhatTheValueIsMadeOf) {
  const Expected<std::string, int> from_literal = "text";
  EXPECT_EQ(*from_literal, "text");
  const Expected<std::string, std::string> error_from_literal = Unexpected("why");
  EXPECT_EQ(error_from_literal.error(), "why");
}

TEST(Expected, MovesOutMoveOnlyValues) {
  Expected<std::unique_ptr<int>, std::string> r = std::make_unique<int>(7);
  ASSERT_TRUE(r);
  EXPECT_EQ(*r.value(), 7);
  std::unique_ptr<int> taken = std::move(r).value();
  EXPECT_EQ(*taken, 7);
}

TEST(Expected, ArrowAndMutation) {
  Expected<std::vector<int>, std::string> r = std::vector<int>{1, 2};
  r->push_back(3);
  EXPECT_EQ(r->size(), 3u);
  Expected<std::vector<int>, std::string> e = Unexpected(std::string("none"));
  e.error() += " at all";
  EXPECT_EQ(e.error(), "none at all");
}

TEST(Expected, ComparesByAlternativeAndContent) {
  EXPECT_EQ(parse_port("25"), parse_port("25"));
  EXPECT_NE(parse_port("25"), parse_port("26"));
  EXPECT_EQ(parse_port("x"), parse_port("x"));
  EXPECT_NE(parse_port("x"), parse_port("y"));
}

TEST(Expected, ComparesWithAValueOrAnError) {
  EXPECT_EQ(parse_port("25"), 25);
  EXPECT_NE(parse_port("25"), 26);
  EXPECT_NE(parse_port("x"), 25);
  EXPECT_EQ(parse_port("70000"), Unexpected(std::string("port out of range")));
  EXPECT_NE(parse_port("25"), Unexpected(std::string("port out of range")));
  const Expected<std::string, std::string> name = std::string("example.org");
  EXPECT_EQ(name, "example.org");
}

TEST(Expected, DefaultConstructsAValue) {
  const Expected<std::string, int> r;
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(*r, "");
}

Expected<void, std::string> save(bool works) {
  if (!works) return Unexpected(std::string("disk full"));
  return {};
}

TEST(ExpectedVoid, SuccessAndFailure) {
  const auto ok = save(true);
  EXPECT_TRUE(ok.has_value());
  EXPECT_NO_THROW(ok.value());
  EXPECT_THROW((void)ok.error(), BadExpectedAccess);
  const auto bad = save(false);
  EXPECT_FALSE(bad);
  EXPECT_EQ(bad.error(), "disk full");
  EXPECT_THROW(bad.value(), BadExpectedAccess);
  EXPECT_NE(ok, bad);
  EXPECT_EQ(bad, save(false));
}

}  // namespace
}  // namespace mailtls
