#include "exporter/runtime/logging.h"

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

TEST(Logging, FieldsAreLogfmtPairsAfterTheMessage) {
  EXPECT_EQ(format_log_line(false, "T", "warn", "probe failed",
                            {{"domain", "example.com"}, {"mx", "mx 1"}, {"err", "a\"b"}}),
            "ts=T level=warn msg=\"probe failed\" domain=\"example.com\" mx=\"mx 1\" err=\"a\\\"b\"\n");
}

TEST(Logging, FieldsAreJsonMembers) {
  EXPECT_EQ(format_log_line(true, "T", "info", "m", {{"domain", "d.example"}, {"address", "::1"}}),
            "{\"ts\":\"T\",\"level\":\"info\",\"msg\":\"m\",\"domain\":\"d.example\",\"address\":\"::1\"}\n");
}

TEST(Logging, KeysAreBareNamesAndValuesAreEscaped) {
  // A key is ours, but never lets a value break out of its pair.
  EXPECT_EQ(format_log_line(false, "T", "info", "m", {{"bad key=", "x\ny"}}),
            "ts=T level=info msg=\"m\" bad_key_=\"x\\ny\"\n");
}

TEST(Logging, MessageTextCannotForgeAField) {
  // Peer text inside a message stays inside msg=, whatever bytes it holds.
  const std::string forged = "x\" domain=\"victim.example";
  const std::string line = format_log_line(false, "T", "info", forged, {});
  EXPECT_EQ(line, "ts=T level=info msg=\"x\\\" domain=\\\"victim.example\"\n");
}

}  // namespace
}  // namespace mailtls::exporter
