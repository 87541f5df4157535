// A peer's test suite for the matcher: OpenSSL's DANE vectors (records, chains, expected verify
// result and match depth; origin and licence in tests/data/dane-openssl/vectors.txt), each
// block run through chain_matcher and, where SMTP differs, through the MX assessment.
//
// Where RFC 7672 makes SMTP differ from OpenSSL's generic DANE, the block is counted apart and
// our SMTP result is asserted instead of OpenSSL's:
//   - PKIX-TA(0) and PKIX-EE(1) are unusable for SMTP (RFC 7672 §3.1.3, docs/verdicts.md T5,
//     T17). A block whose records are all PKIX usages authenticates nothing for us; the MX
//     then has a secure RRset with no usable record, where a sender requires TLS and accepts
//     any certificate (RFC 7672 §2.2.3, RFC 7671 §10.3, T4).
//   - DANE-EE(3) carries no name check for SMTP (RFC 7672 §3.2.1, T8). A block where OpenSSL
//     was told to check names for DANE-EE and fails on the name at depth 0 authenticates for us.
// Every other block must give OpenSSL's result and OpenSSL's match depth: the lowest chain
// depth at which a counted record matched, -1 for none (what SSL_get0_dane_authority reports,
// whether or not the path then verified).
#include <gtest/gtest.h>
#include <openssl/pem.h>
#include <openssl/x509_vfy.h>

#include <algorithm>
#include <fstream>
#include <map>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

#include "probes/dane/chain_matcher.h"
#include "probes/dane/dane_assessment.h"
#include "probes/dane/tlsa_presentation.h"
#include "probes/tls/openssl_ptr.h"

namespace mailtls::dane {
namespace {

const std::string kDataDir = std::string(MAILTLS_SOURCE_DIR) + "/tests/data/dane-openssl/";
// The base domain OpenSSL's suite runs with: the only reference name.
const std::vector<std::string> kReferenceNames = {"example.com"};

struct Vector {
  int number = 0;
  int verify = 0;  // OpenSSL's X509 verify error, 0 = ok
  int depth = -1;  // OpenSSL's match depth
  bool ee_names = false;
  std::vector<dns::TlsaRecord> records;
  std::vector<std::string> chain_files;
};

// How a block is judged.
enum class Rule { kAsOpenssl, kSmtpPkixUnusable, kSmtpDaneEeNoNames };

Rule rule_for(const Vector& v) {
  const bool all_pkix = std::all_of(v.records.begin(), v.records.end(),
                                    [](const dns::TlsaRecord& r) { return r.usage <= 1; });
  if (all_pkix) return Rule::kSmtpPkixUnusable;
  if (v.ee_names && v.verify == X509_V_ERR_HOSTNAME_MISMATCH && v.depth == 0) {
    return Rule::kSmtpDaneEeNoNames;
  }
  return Rule::kAsOpenssl;
}

int int_field(const std::string& token, const std::string& key) {
  if (token.rfind(key + "=", 0) != 0) throw std::runtime_error("expected " + key + "= in " + token);
  return std::stoi(token.substr(key.size() + 1));
}

std::vector<Vector> load_vectors() {
  std::ifstream in(kDataDir + "vectors.txt");
  if (!in) throw std::runtime_error("cannot open " + kDataDir + "vectors.txt");
  std::vector<Vector> out;
  std::string line;
  while (std::getline(in, line)) {
    std::istringstream words(line);
    std::string kind;
    if (!(words >> kind) || kind[0] == '#') continue;
    if (kind == "block") {
      Vector v;
      std::string verify, depth, names;
      words >> v.number >> verify >> depth >> names;
      v.verify = int_field(verify, "verify");
      v.depth = int_field(depth, "depth");
      v.ee_names = names == "ee_names=on";
      out.push_back(std::move(v));
    } else if (kind == "tlsa" && !out.empty()) {
      auto parsed = parse_tlsa_presentation(line.substr(line.find(' ') + 1));
      if (!parsed.record) throw std::runtime_error("bad record: " + line);
      out.back().records.push_back(*parsed.record);
    } else if (kind == "chain" && !out.empty()) {
      for (std::string f; words >> f;) out.back().chain_files.push_back(f);
    } else {
      throw std::runtime_error("unexpected line: " + line);
    }
  }
  return out;
}

const std::vector<Vector>& vectors() {
  static const std::vector<Vector> v = load_vectors();
  return v;
}

tls::DerBytes pem_file_der(const std::string& name) {
  BioPtr bio(BIO_new_file((kDataDir + name).c_str(), "r"));
  if (!bio) throw std::runtime_error("cannot open " + name);
  X509Ptr cert(PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr));
  if (!cert) throw std::runtime_error("not a PEM certificate: " + name);
  unsigned char* buf = nullptr;
  const int n = i2d_X509(cert.get(), &buf);
  tls::DerBytes der(buf, buf + std::max(n, 0));
  OPENSSL_free(buf);
  return der;
}

tls::X509Chain chain_of(const Vector& v) {
  tls::DerChain der;
  for (const auto& f : v.chain_files) der.push_back(pem_file_der(f));
  return tls::X509Chain::parse(der);
}

// OpenSSL's depth: the lowest depth at which a counted record matched.
int match_depth(const ChainMatch& m) {
  int depth = -1;
  for (const auto& r : m.records) {
    if (!r.usability.counts || !r.data_matches) continue;
    if (depth < 0 || r.matched_depth < depth) depth = r.matched_depth;
  }
  return depth;
}

DaneResultType our_type_for(int openssl_verify_error) {
  switch (openssl_verify_error) {
    case X509_V_OK: return DaneResultType::kOk;
    case X509_V_ERR_DANE_NO_MATCH: return DaneResultType::kTlsaInvalid;
    case X509_V_ERR_HOSTNAME_MISMATCH: return DaneResultType::kCertificateHostMismatch;
    default: throw std::runtime_error("no mapping for verify error " + std::to_string(openssl_verify_error));
  }
}

SystemTime vector_time() {
  // Inside the validity of every certificate except the one that is never valid (whose
  // blocks are DANE-EE: no expiry check).
  return std::chrono::system_clock::from_time_t(1767225600);  // 2026-01-01
}

class OpensslDaneVector : public ::testing::TestWithParam<int> {
 protected:
  const Vector& v() const { return vectors().at(static_cast<size_t>(GetParam())); }
};

TEST_P(OpensslDaneVector, GivesOpensslsResultOrTheSmtpRule) {
  const Vector& v = this->v();
  SCOPED_TRACE("OpenSSL block " + std::to_string(v.number));
  const tls::X509Chain chain = chain_of(v);
  ASSERT_EQ(chain.size(), v.chain_files.size()) << "a fixture certificate does not parse";
  const ChainMatch m = match_chain(chain, v.records, kReferenceNames, vector_time());

  switch (rule_for(v)) {
    case Rule::kAsOpenssl:
      EXPECT_EQ(m.result_type, our_type_for(v.verify)) << m.message;
      EXPECT_EQ(m.authenticated, v.verify == X509_V_OK);
      EXPECT_EQ(match_depth(m), v.depth);
      break;
    case Rule::kSmtpDaneEeNoNames:
      EXPECT_TRUE(m.authenticated) << m.message;
      EXPECT_EQ(m.result_type, DaneResultType::kOk);
      EXPECT_EQ(match_depth(m), 0);
      break;
    case Rule::kSmtpPkixUnusable: {
      for (const auto& r : m.records) {
        EXPECT_EQ(r.usability.unusable_reason, TlsaUnusableReason::kPkixUsage);
        EXPECT_FALSE(r.data_matches);
      }
      EXPECT_FALSE(m.authenticated);
      EXPECT_EQ(match_depth(m), -1);
      // The MX: a secure RRset with nothing usable. TLS is mandatory, any certificate will do.
      MxDaneInput mx{.host = "example.com",
                     .applicability = dns::DaneApplicability::kDaneAppliesNoneUsable,
                     .base_domain = "example.com",
                     .records = v.records,
                     .addresses = {{"192.0.2.1", true, true, true, chain}}};
      const MxDaneResult r = assess_mx_dane(mx, {}, vector_time());
      EXPECT_EQ(r.usable_records, 0);
      ASSERT_EQ(r.addresses.size(), 1u);
      EXPECT_TRUE(r.addresses[0].delivers);
      EXPECT_FALSE(r.addresses[0].authenticated);
      EXPECT_EQ(r.addresses[0].result_type, DaneResultType::kOk);
      break;
    }
  }
}

INSTANTIATE_TEST_SUITE_P(Blocks, OpensslDaneVector,
                         ::testing::Range(0, static_cast<int>(vectors().size())),
                         [](const ::testing::TestParamInfo<int>& p) {
                           return "block" + std::to_string(vectors().at(static_cast<size_t>(p.param)).number);
                         });

// The counts the report quotes: 50 blocks, of which 31 are judged as OpenSSL judges them, 18
// hold only PKIX usages and 1 asks for DANE-EE name checks.
TEST(OpensslDaneVectors, EveryBlockIsCountedUnderOneRule) {
  std::map<Rule, int> count;
  for (const auto& v : vectors()) ++count[rule_for(v)];
  EXPECT_EQ(vectors().size(), 50u);
  EXPECT_EQ(count[Rule::kAsOpenssl], 31);
  EXPECT_EQ(count[Rule::kSmtpPkixUnusable], 18);
  EXPECT_EQ(count[Rule::kSmtpDaneEeNoNames], 1);
}

}  // namespace
}  // namespace mailtls::dane
