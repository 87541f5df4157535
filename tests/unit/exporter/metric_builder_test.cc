#include "exporter/exposition/metric_builder.h"

#include <gtest/gtest.h>

namespace mailtls::exporter {
namespace {

TEST(MetricBuilder, StateSetHasOneSeriesPerState) {
  MetricBuilder b;
  b.state_set("mailtls_dane_status", "DANE verdict.", {{"domain", "example.com"}}, "status",
              {"valid", "degraded", "broken"}, "degraded");
  auto f = b.take();
  ASSERT_EQ(f.size(), 1u);
  ASSERT_EQ(f[0].metric.size(), 3u);
  EXPECT_EQ(f[0].metric[0].label[1].value, "valid");
  EXPECT_EQ(f[0].metric[0].gauge.value, 0);
  EXPECT_EQ(f[0].metric[1].gauge.value, 1);
}

}  // namespace
}  // namespace mailtls::exporter
