// probe_allow_list entries are normalised like configured domain names (issue 17, finding 18):
// an entry with a trailing dot or capitals used to pass --config.check and then never match,
// because /probe compares it with the normalised target.
#include <gtest/gtest.h>

#include "exporter/config/config.h"

namespace mailtls::exporter {
namespace {

TEST(ConfigAllowList, EntriesAreNormalisedLikeDomainNames) {
  const struct {
    const char* written;
    const char* kept;
  } cases[] = {
      {"example.org", "example.org"},
      {"example.org.", "example.org"},
      {"Example.ORG", "example.org"},
      {"MAIL.Example.Org.", "mail.example.org"},
      {"*.customers.example.net", "*.customers.example.net"},
      {"*.Customers.Example.NET.", "*.customers.example.net"},
      {"xn--bcher-kva.example.", "xn--bcher-kva.example"},
  };
  for (const auto& c : cases) {
    const auto r = load_config_text(std::string("probe_allow_list: [\"") + c.written + "\"]\n", "t.yml");
    ASSERT_TRUE(r.config) << c.written << ": " << r.error;
    ASSERT_EQ(r.config->probe_allow_list.size(), 1u);
    EXPECT_EQ(r.config->probe_allow_list[0], c.kept) << c.written;
  }
}

TEST(ConfigAllowList, BadEntriesNameTheirLineAndIndex) {
  const struct {
    const char* written;
    const char* error;
  } cases[] = {
      {"example..org", "t.yml:3: probe_allow_list[1]: invalid domain name \"example..org\": empty label"},
      {"*.", "t.yml:3: probe_allow_list[1]: invalid domain name \"\": empty"},
      {".", "t.yml:3: probe_allow_list[1]: invalid domain name \".\": empty"},
      {"*.*.example.org", "t.yml:3: probe_allow_list[1]: invalid domain name \"*.example.org\": character '*' is not allowed"},
      {"example.org..", "t.yml:3: probe_allow_list[1]: invalid domain name \"example.org..\": empty label"},
  };
  for (const auto& c : cases) {
    const auto r = load_config_text(std::string("probe_allow_list:\n  - ok.example\n  - \"") +
                                        c.written + "\"\n",
                                    "t.yml");
    EXPECT_FALSE(r.config) << c.written;
    EXPECT_EQ(r.error, c.error);
  }
  const auto not_a_list = load_config_text("probe_allow_list: example.org\n", "t.yml");
  EXPECT_EQ(not_a_list.error, "t.yml:1: probe_allow_list: must be a list of strings");
}

// The same for configured domain names: one trailing dot is dropped, a second is an error
// (it used to leave "example.org." configured, a name /probe could never ask for).
TEST(ConfigAllowList, DomainNamesWithTwoTrailingDotsAreRefused) {
  std::string err;
  EXPECT_EQ(normalize_domain_name("example.org.", &err), "example.org");
  EXPECT_FALSE(normalize_domain_name("example.org..", &err));
  EXPECT_EQ(err, "invalid domain name \"example.org..\": empty label");
  const auto r = load_config_text("domains:\n  - Example.ORG.\n  - b.example..\n", "d.yml");
  EXPECT_EQ(r.error, "d.yml:3: domains[1]: invalid domain name \"b.example..\": empty label");
}

}  // namespace
}  // namespace mailtls::exporter
