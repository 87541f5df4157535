#include "exporter/logging.h"

#include <gtest/gtest.h>

namespace mailtls::exporter {
namespace {

TEST(Logging, LogfmtQuotesAndEscapes) {
  EXPECT_EQ(logfmt_quote("plain"), "\"plain\"");
  EXPECT_EQ(logfmt_quote("say \"hi\"\n\\"), "\"say \\\"hi\\\"\\n\\\\\"");
  EXPECT_EQ(logfmt_quote(std::string("a\x01z")), "\"a\\x01z\"");
}

TEST(Logging, JsonEscapes) {
  EXPECT_EQ(json_quote("tab\there"), "\"tab\\there\"");
  EXPECT_EQ(json_quote(std::string("\x1f")), "\"\\u001f\"");
  EXPECT_EQ(json_quote("q\"b\\"), "\"q\\\"b\\\\\"");
}

}  // namespace
}  // namespace mailtls::exporter
