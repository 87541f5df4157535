// Basic auth (review finding 13): malformed credentials, and a bcrypt for unknown users too.

#include "exporter/http/basic_auth.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "exporter/config/web_config.h"

namespace mailtls::exporter {
namespace {

// bcrypt of "secret" (cost 10), as in web_config_test.cc.
const char* kSecretHash = "$2b$10$PFaQ8hTTHFyxZcLXiCYPwuOdjYqmy39m/8eGTz0hi8EbFgCdWtk9W";

TEST(BasicCredentials, Decoding) {
  auto c = decode_basic_credentials("Basic cHJvbWV0aGV1czpzZWNyZXQ=");  // prometheus:secret
  ASSERT_TRUE(c);
  EXPECT_EQ(c->user, "prometheus");
  EXPECT_EQ(c->password, "secret");
  c = decode_basic_credentials("basic YTpiOmM=");  // a:b:c, the password may hold colons
  ASSERT_TRUE(c);
  EXPECT_EQ(c->password, "b:c");
  for (const char* bad : {"Basic ====", "Basic ===", "Basic a===", "Basic =", "Basic ", "Basic",
                          "Bearer cHJvbWV0aGV1czpzZWNyZXQ=", "Basic Zm9v" /* no colon */, "Basic !!!!"}) {
    EXPECT_FALSE(decode_basic_credentials(bad)) << bad;
  }
}

// Unknown user names cost a bcrypt, of the dummy hash at the configured cost, so the answer
// time does not tell which names exist (they answered in 4-8 ms, known ones in 67-83 ms).
TEST(BasicAuth, UnknownUsersAreCheckedAgainstADummyHashOfTheSameCost) {
  std::vector<std::string> checked;
  BasicAuth auth({{"prometheus", kSecretHash}}, [&](const std::string& password, const std::string& hash) {
    checked.push_back(hash);
    return bcrypt_matches(password, hash);
  });
  EXPECT_EQ(auth.dummy_hash().size(), 60u);
  EXPECT_EQ(auth.dummy_hash().substr(0, 7), "$2b$10$");
  EXPECT_NE(auth.dummy_hash(), kSecretHash);

  EXPECT_FALSE(auth.allows("Basic bm9ib2R5OnNlY3JldA=="));  // nobody:secret
  ASSERT_EQ(checked.size(), 1u);
  EXPECT_EQ(checked[0], auth.dummy_hash());

  EXPECT_FALSE(auth.allows("Basic cHJvbWV0aGV1czp3cm9uZw=="));  // prometheus:wrong
  ASSERT_EQ(checked.size(), 2u);
  EXPECT_EQ(checked[1], kSecretHash);

  EXPECT_TRUE(auth.allows("Basic cHJvbWV0aGV1czpzZWNyZXQ="));  // prometheus:secret
  EXPECT_TRUE(auth.allows("Basic cHJvbWV0aGV1czpzZWNyZXQ="));  // from the cache
  EXPECT_EQ(checked.size(), 3u);
}

TEST(BasicAuth, TheDummyHashFollowsTheConfiguredCost) {
  // A cost-4 hash of "x" ($2b$04$): the dummy must cost the same, not 10.
  const std::string cheap = "$2b$04$abcdefghijklmnopqrstuu5Yg6UH0ZzsmhUnFCrbYKRYwmFSt0n0y";
  BasicAuth auth({{"a", cheap}});
  EXPECT_EQ(auth.dummy_hash().substr(0, 7), "$2b$04$");
}

}  // namespace
}  // namespace mailtls::exporter
