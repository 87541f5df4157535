// The parsed presented chain: what parse() keeps, that copies and share() hold their own
// references, and that der() gives back the bytes as presented.

#include "probes/tls/x509_chain.h"

#include <gtest/gtest.h>

#include "tests/fakes/test_certs.h"

namespace mailtls::tls {
namespace {

class X509ChainTest : public ::testing::Test {
 protected:
  testing::TestCert ca_ = testing::make_test_ca("Chain Root");
  testing::TestCert leaf_ = testing::make_test_leaf(
      {.common_name = "mx1.example.com", .dns_names = {"mx1.example.com"}}, ca_);
};

TEST_F(X509ChainTest, ParseKeepsOrderAndGivesTheBytesBack) {
  const DerChain der = {leaf_.der(), ca_.der()};
  const X509Chain chain = X509Chain::parse(der);
  ASSERT_EQ(chain.size(), 2u);
  EXPECT_EQ(chain.leaf(), chain[0]);
  EXPECT_EQ(chain.der(), der);
}

TEST_F(X509ChainTest, ParseStopsAtTheFirstElementThatIsNotOneCertificate) {
  DerBytes trailing = ca_.der();
  trailing.push_back(0);
  EXPECT_EQ(X509Chain::parse({leaf_.der(), {0x30, 0x03, 0x01}, ca_.der()}).size(), 1u);
  EXPECT_EQ(X509Chain::parse({leaf_.der(), trailing}).size(), 1u);
  EXPECT_TRUE(X509Chain::parse({{}, leaf_.der()}).empty());
  EXPECT_TRUE(X509Chain::parse({}).empty());
  EXPECT_EQ(X509Chain().leaf(), nullptr);
}

TEST_F(X509ChainTest, CopiesShareTheCertificatesAndOutliveTheOriginal) {
  auto original = std::make_unique<X509Chain>(X509Chain::parse({leaf_.der(), ca_.der()}));
  X509Chain copy = *original;
  X509Chain assigned;
  assigned = copy;
  EXPECT_EQ(copy[0], (*original)[0]);  // the same object, not a new parse
  EXPECT_EQ(assigned[1], (*original)[1]);
  original.reset();
  EXPECT_EQ(copy.der(), (DerChain{leaf_.der(), ca_.der()}));
  EXPECT_EQ(assigned.der(), copy.der());
}

TEST_F(X509ChainTest, ShareTakesItsOwnReferencesFromAStack) {
  const X509Chain parsed = X509Chain::parse({leaf_.der(), ca_.der()});
  X509StackPtr stack(sk_X509_new_null());
  ASSERT_TRUE(stack);
  for (std::size_t i = 0; i < parsed.size(); ++i) {
    X509_up_ref(parsed[i]);
    ASSERT_GT(sk_X509_push(stack.get(), parsed[i]), 0);
  }
  const X509Chain all = X509Chain::share(stack.get(), 32);
  const X509Chain first = X509Chain::share(stack.get(), 1);
  stack.reset();  // frees the stack's references only
  ASSERT_EQ(all.size(), 2u);
  EXPECT_EQ(all[0], parsed[0]);
  EXPECT_EQ(all.der(), parsed.der());
  ASSERT_EQ(first.size(), 1u);
  EXPECT_EQ(first.leaf(), parsed.leaf());
  EXPECT_TRUE(X509Chain::share(nullptr, 32).empty());
}

}  // namespace
}  // namespace mailtls::tls
