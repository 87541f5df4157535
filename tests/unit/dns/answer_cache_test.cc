#include "probes/dns/answer_cache.h"

#include <gtest/gtest.h>

namespace mailtls::dns {
namespace {

using std::chrono::seconds;

Answer answer(std::string qname, RrType type, Outcome outcome, Security security,
              std::uint32_t ttl) {
  Answer a;
  a.qname = std::move(qname);
  a.canonical_name = a.qname;
  a.type = type;
  a.outcome = outcome;
  a.security = security;
  a.ttl = ttl;
  if (outcome == Outcome::kData) a.rdata = {std::string("\x7f\x00\x09\x01", 4)};
  return a;
}

const AnswerCache::TimePoint t0{seconds(1000)};

TEST(AnswerCacheTest, GivesAKeptAnswerWithItsRemainingTtlUntilItExpires) {
  AnswerCache cache(8);
  cache.store(answer("mx.example.test", RrType::kA, Outcome::kData, Security::kSecure, 300), t0);

  auto hit = cache.find("MX.Example.Test.", RrType::kA, t0 + seconds(100));
  ASSERT_TRUE(hit);
  EXPECT_EQ(hit->qname, "mx.example.test");
  EXPECT_EQ(hit->outcome, Outcome::kData);
  EXPECT_EQ(hit->security, Security::kSecure);
  EXPECT_EQ(hit->rdata.size(), 1u);
  EXPECT_EQ(hit->ttl, 200u);

  EXPECT_FALSE(cache.find("mx.example.test", RrType::kAaaa, t0));  // another type
  EXPECT_FALSE(cache.find("mx.example.test", RrType::kA, t0 + seconds(300)));  // expired
  EXPECT_EQ(cache.size(), 0u);  // and dropped
}

TEST(AnswerCacheTest, KeepsDefinitiveValidatedAnswersOnly) {
  EXPECT_TRUE(AnswerCache::keepable(answer("a.test", RrType::kMx, Outcome::kData, Security::kSecure, 60)));
  EXPECT_TRUE(AnswerCache::keepable(answer("a.test", RrType::kTxt, Outcome::kNxDomain, Security::kSecure, 60)));
  EXPECT_TRUE(AnswerCache::keepable(answer("a.test", RrType::kTlsa, Outcome::kNoData, Security::kInsecure, 60)));
  EXPECT_FALSE(AnswerCache::keepable(answer("a.test", RrType::kMx, Outcome::kData, Security::kBogus, 60)));
  EXPECT_FALSE(AnswerCache::keepable(answer("a.test", RrType::kMx, Outcome::kData, Security::kIndeterminate, 60)));
  EXPECT_FALSE(AnswerCache::keepable(answer("a.test", RrType::kMx, Outcome::kError, Security::kInsecure, 60)));
  EXPECT_FALSE(AnswerCache::keepable(answer("a.test", RrType::kMx, Outcome::kData, Security::kSecure, 0)));

  AnswerCache cache(8);
  cache.store(answer("bogus.test", RrType::kA, Outcome::kData, Security::kBogus, 60), t0);
  Answer timeout = answer("slow.test", RrType::kA, Outcome::kError, Security::kIndeterminate, 60);
  timeout.reason = "timeout";
  cache.store(timeout, t0);
  EXPECT_FALSE(cache.find("bogus.test", RrType::kA, t0));
  EXPECT_FALSE(cache.find("slow.test", RrType::kA, t0));
  EXPECT_EQ(cache.size(), 0u);
}

TEST(AnswerCacheTest, DropsTheLeastRecentlyUsedWhenFull) {
  AnswerCache cache(2);
  cache.store(answer("one.test", RrType::kA, Outcome::kData, Security::kSecure, 60), t0);
  cache.store(answer("two.test", RrType::kA, Outcome::kData, Security::kSecure, 60), t0);
  ASSERT_TRUE(cache.find("one.test", RrType::kA, t0));  // one is now the most recent
  cache.store(answer("three.test", RrType::kA, Outcome::kData, Security::kSecure, 60), t0);

  EXPECT_EQ(cache.size(), 2u);
  EXPECT_TRUE(cache.find("one.test", RrType::kA, t0));
  EXPECT_FALSE(cache.find("two.test", RrType::kA, t0));
  EXPECT_TRUE(cache.find("three.test", RrType::kA, t0));
}

TEST(AnswerCacheTest, AFreshAnswerReplacesTheKeptOne) {
  AnswerCache cache(4);
  cache.store(answer("mx.test", RrType::kTlsa, Outcome::kNoData, Security::kSecure, 60), t0);
  cache.store(answer("mx.test", RrType::kTlsa, Outcome::kData, Security::kSecure, 30), t0 + seconds(10));

  auto hit = cache.find("mx.test", RrType::kTlsa, t0 + seconds(20));
  ASSERT_TRUE(hit);
  EXPECT_EQ(hit->outcome, Outcome::kData);
  EXPECT_EQ(hit->ttl, 20u);
  EXPECT_EQ(cache.size(), 1u);
}

}  // namespace
}  // namespace mailtls::dns
