#include "exporter/http/scrape_timeout.h"

#include <gtest/gtest.h>

namespace mailtls::exporter {
namespace {

using std::chrono::milliseconds;

TEST(ScrapeTimeout, PlainDecimalSecondsLessTheMargin) {
  EXPECT_EQ(probe_budget_for_scrape_timeout("10"), milliseconds(9500));
  EXPECT_EQ(probe_budget_for_scrape_timeout("9.5"), milliseconds(9000));
  EXPECT_EQ(probe_budget_for_scrape_timeout("0.75"), milliseconds(250));
  EXPECT_EQ(probe_budget_for_scrape_timeout("86400"), milliseconds(86399500));
  EXPECT_EQ(probe_budget_for_scrape_timeout("000012"), milliseconds(11500));
}

TEST(ScrapeTimeout, AnythingElseIsIgnored) {
  for (const char* v : {"", " ", "abc", "3abc", " 4", "4 ", "0x5", "+5", "-5", "-0", "0", "0.5",
                        "0.4", "inf", "-inf", "INF", "infinity", "nan", "NaN", "nan(0x1)", "1e1",
                        "1E300", "86400.001", "1e309", "99999999999999999999999999",
                        "1.5.2", ".", "5,5", "١٠", "10\n"}) {
    EXPECT_FALSE(probe_budget_for_scrape_timeout(v)) << "\"" << v << "\"";
  }
  EXPECT_FALSE(probe_budget_for_scrape_timeout(std::string(100, '1')));
  EXPECT_FALSE(probe_budget_for_scrape_timeout(std::string_view("10\0", 3)));
}

}  // namespace
}  // namespace mailtls::exporter
