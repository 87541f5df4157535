#include "exporter/cli/flags.h"

#include <gtest/gtest.h>

namespace mailtls::exporter {
namespace {

FlagsResult parse(std::vector<std::string> args) {
  args.insert(args.begin(), "mailtls_exporter");
  return parse_flags(args);
}

TEST(Flags, Defaults) {
  auto r = parse({});
  ASSERT_TRUE(r) << r.error();
  EXPECT_EQ(r->listen_address, ":9925");
  EXPECT_EQ(r->log_level, "info");
  EXPECT_EQ(r->log_format, "logfmt");
  EXPECT_FALSE(r->config_check);
}

TEST(Flags, ConfigWatchInterval) {
  auto r = parse({});
  ASSERT_TRUE(r);
  EXPECT_EQ(r->config_watch_interval.count(), 0) << "off by default";
  r = parse({"--config.watch-interval=30s"});
  ASSERT_TRUE(r) << r.error();
  EXPECT_EQ(r->config_watch_interval.count(), 30000);
  r = parse({"--config.watch-interval", "0"});
  ASSERT_TRUE(r) << r.error();
  EXPECT_EQ(r->config_watch_interval.count(), 0);
  r = parse({"--config.watch-interval=often"});
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error(), "invalid value \"often\" for --config.watch-interval (a duration such as 30s, or 0)");
}

TEST(Flags, EqualsAndSpaceForms) {
  auto r = parse({"--config.file=a.yml", "--web.listen-address", "127.0.0.1:1234",
                  "--log.format=json", "--storage.path", "/var/lib/x"});
  ASSERT_TRUE(r) << r.error();
  EXPECT_EQ(r->config_file, "a.yml");
  EXPECT_EQ(r->listen_address, "127.0.0.1:1234");
  EXPECT_EQ(r->log_format, "json");
  EXPECT_EQ(r->storage_path, "/var/lib/x");
}

TEST(Flags, BooleanFlags) {
  auto r = parse({"--config.check", "--version"});
  ASSERT_TRUE(r);
  EXPECT_TRUE(r->config_check);
  EXPECT_TRUE(r->show_version);
  r = parse({"--config.check=false"});
  ASSERT_TRUE(r);
  EXPECT_FALSE(r->config_check);
  r = parse({"--no-config.check"});
  ASSERT_TRUE(r);
  EXPECT_FALSE(r->config_check);
  EXPECT_FALSE(parse({"--version=maybe"}));
}

TEST(Flags, Errors) {
  EXPECT_EQ(parse({"--nope"}).error(), "unknown flag --nope (see --help)");
  EXPECT_EQ(parse({"--config.file"}).error(), "flag --config.file needs a value");
  EXPECT_NE(parse({"--log.level=loud"}).error().find("invalid value \"loud\" for --log.level"),
            std::string::npos);
  EXPECT_NE(parse({"--log.format=xml"}).error().find("--log.format"), std::string::npos);
}

TEST(Flags, PositionalSubcommand) {
  auto r = parse({"--log.level=debug", "check", "example.com", "example.org"});
  ASSERT_TRUE(r);
  EXPECT_EQ(r->args, (std::vector<std::string>{"check", "example.com", "example.org"}));
}

TEST(Flags, UsageListsEveryFlag) {
  const std::string u = flags_usage("mailtls_exporter");
  for (const char* f : {"--config.file", "--web.listen-address", "--web.config.file", "--log.level",
                        "--log.format", "--storage.path", "--config.check", "--version", "--help"}) {
    EXPECT_NE(u.find(f), std::string::npos) << f;
  }
}

}  // namespace
}  // namespace mailtls::exporter
