// The exposition-format writer: line for line what prometheus-cpp's TextSerializer writes (the
// format /metrics had before it rendered text itself), exact text, and escaping.

#include "exporter/exposition/metrics_text.h"

#include <gtest/gtest.h>
#include <prometheus/histogram.h>
#include <prometheus/summary.h>
#include <prometheus/text_serializer.h>

#include <limits>

namespace mailtls::exporter {
namespace {

prometheus::ClientMetric gauge(double v, std::vector<prometheus::ClientMetric::Label> labels = {}) {
  prometheus::ClientMetric m;
  m.label = std::move(labels);
  m.gauge.value = v;
  return m;
}

TEST(MetricsText, SameAsPrometheusCppTextSerializer) {
  prometheus::MetricFamily g{"mailtls_g", "A gauge.", prometheus::MetricType::Gauge, {}};
  const double values[] = {0, 1, -1, 0.1, 0.1 + 0.2, 1e-7, 1.5e-5, 1763880000.123456, 1763880000,
                           123456789012345678.0, 1e15, 1e16, 1e21, 5e-324, 0.07300000000000001,
                           3.14159265358979, -0.0, std::numeric_limits<double>::quiet_NaN(),
                           std::numeric_limits<double>::infinity(),
                           -std::numeric_limits<double>::infinity(),
                           std::numeric_limits<double>::max()};
  for (double v : values) g.metric.push_back(gauge(v, {{"domain", "a.example"}, {"v", "x\"y\\z\nw"}}));
  g.metric.push_back(gauge(2));  // no labels
  g.metric.push_back(gauge(3, {{"domain", ""}}));

  prometheus::MetricFamily c{"mailtls_c_total", "A counter.", prometheus::MetricType::Counter, {}};
  prometheus::ClientMetric cm;
  cm.label = {{"reason", "too_large"}};
  cm.counter.value = 12345;
  cm.timestamp_ms = 1700000000123;
  c.metric.push_back(cm);

  prometheus::Histogram h({0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10});
  for (double v : {0.003, 0.07, 0.3, 11.0}) h.Observe(v);
  auto hm = h.Collect();
  hm.label = {{"domain", "b.example"}};
  prometheus::MetricFamily hist{"mailtls_h_seconds", "A histogram.", prometheus::MetricType::Histogram,
                                {hm, prometheus::Histogram({1}).Collect()}};

  prometheus::Summary s({{0.5, 0.05}, {0.9, 0.01}});
  s.Observe(1.5);
  prometheus::MetricFamily sum{"mailtls_s", "", prometheus::MetricType::Summary, {s.Collect()}};
  prometheus::MetricFamily u{"mailtls_u", "Untyped.", prometheus::MetricType::Untyped, {gauge(0)}};
  u.metric[0].untyped.value = 42.5;

  const std::vector<prometheus::MetricFamily> families{g, c, hist, sum, u};
  EXPECT_EQ(render_metrics_families(families), prometheus::TextSerializer().Serialize(families));
}

TEST(MetricsText, ExactText) {
  prometheus::MetricFamily f{"mailtls_dane_status", "DANE verdict.", prometheus::MetricType::Gauge,
                             {gauge(1, {{"domain", "a.example"}, {"status", "valid"}}),
                              gauge(0, {{"domain", "a.example"}, {"status", "broken"}})}};
  prometheus::MetricFamily h{"mailtls_hs_seconds", "", prometheus::MetricType::Histogram, {}};
  prometheus::Histogram hist({0.5});
  hist.Observe(0.25);
  h.metric.push_back(hist.Collect());
  EXPECT_EQ(render_metrics_families({f, h}),
            "# HELP mailtls_dane_status DANE verdict.\n"
            "# TYPE mailtls_dane_status gauge\n"
            "mailtls_dane_status{domain=\"a.example\",status=\"valid\"} 1\n"
            "mailtls_dane_status{domain=\"a.example\",status=\"broken\"} 0\n"
            "# TYPE mailtls_hs_seconds histogram\n"
            "mailtls_hs_seconds_count 1\n"
            "mailtls_hs_seconds_sum 0.25\n"
            "mailtls_hs_seconds_bucket{le=\"0.5\"} 1\n"
            "mailtls_hs_seconds_bucket{le=\"+Inf\"} 1\n");
}

TEST(MetricsText, EscapesLabelValuesAndHelp) {
  prometheus::MetricFamily f{"mailtls_cert_info", "Path C:\\certs\nsecond line.",
                             prometheus::MetricType::Gauge,
                             {gauge(1, {{"subject", "CN=\"x\\y\"\nO=z"}})}};
  EXPECT_EQ(render_metrics_families({f}),
            "# HELP mailtls_cert_info Path C:\\\\certs\\nsecond line.\n"
            "# TYPE mailtls_cert_info gauge\n"
            "mailtls_cert_info{subject=\"CN=\\\"x\\\\y\\\"\\nO=z\"} 1\n");
}

TEST(MetricsText, AppendsToWhatIsThere) {
  std::string out = "before\n";
  append_families(out, {{"x", "", prometheus::MetricType::Gauge, {gauge(0.5)}}});
  EXPECT_EQ(out, "before\n# TYPE x gauge\nx 0.5\n");
}

}  // namespace
}  // namespace mailtls::exporter
