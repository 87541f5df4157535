#include "exporter/metric_builder.h"

#include <gtest/gtest.h>
#include <prometheus/text_serializer.h>

#include "exporter/probe_results_collector.h"

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

TEST(ProbeResultsCollector, MergesDomainsIntoOneFamilyAndForgetsRemoved) {
  ProbeResultsCollector c;
  for (const char* d : {"a.example", "b.example"}) {
    MetricBuilder b;
    b.gauge("mailtls_probe_success", "Probe ran to the end.", {{"domain", d}}, 1);
    c.set(d, b.take());
  }
  auto text = prometheus::TextSerializer().Serialize(c.Collect());
  EXPECT_EQ(text.find("# TYPE mailtls_probe_success"), text.rfind("# TYPE mailtls_probe_success"));
  EXPECT_NE(text.find("domain=\"a.example\""), std::string::npos);
  c.retain_only({"b.example"});
  text = prometheus::TextSerializer().Serialize(c.Collect());
  EXPECT_EQ(text.find("a.example"), std::string::npos);
  EXPECT_NE(text.find("b.example"), std::string::npos);
}

}  // namespace
}  // namespace mailtls::exporter
