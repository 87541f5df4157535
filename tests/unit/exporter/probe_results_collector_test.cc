// ProbeResultsCollector: domains' text rendered once and concatenated per family at scrape
// time, the same text as merging every domain's families and serializing them with
// prometheus-cpp.

#include "exporter/exposition/probe_results_collector.h"

#include <gtest/gtest.h>
#include <prometheus/text_serializer.h>

#include <algorithm>

#include "exporter/exposition/metric_builder.h"

namespace mailtls::exporter {
namespace {

std::string text_of(const ProbeResultsCollector& c) {
  std::string out;
  c.append_text(out);
  return out;
}

std::vector<prometheus::MetricFamily> envelope(const std::string& domain, double success) {
  MetricBuilder b;
  b.gauge("mailtls_probe_success", "Probe ran to the end.", {{"domain", domain}}, success);
  b.gauge("mailtls_probe_duration_seconds", "Probe time.", {{"domain", domain}}, 0.25);
  return b.take();
}

std::vector<prometheus::MetricFamily> full(const std::string& domain, const std::string& dane) {
  auto f = envelope(domain, 1);
  MetricBuilder b;
  b.state_set("mailtls_dane_status", "DANE verdict.", {{"domain", domain}}, "status",
              {"valid", "broken"}, dane);
  for (auto& x : b.take()) f.push_back(std::move(x));
  return f;
}

TEST(ProbeResultsCollector, GroupsEachFamilyAcrossDomainsInDomainOrder) {
  ProbeResultsCollector c;
  c.set("b.example", full("b.example", "broken"));
  c.set("a.example", envelope("a.example", 0));
  EXPECT_EQ(text_of(c),
            "# HELP mailtls_probe_success Probe ran to the end.\n"
            "# TYPE mailtls_probe_success gauge\n"
            "mailtls_probe_success{domain=\"a.example\"} 0\n"
            "mailtls_probe_success{domain=\"b.example\"} 1\n"
            "# HELP mailtls_probe_duration_seconds Probe time.\n"
            "# TYPE mailtls_probe_duration_seconds gauge\n"
            "mailtls_probe_duration_seconds{domain=\"a.example\"} 0.25\n"
            "mailtls_probe_duration_seconds{domain=\"b.example\"} 0.25\n"
            "# HELP mailtls_dane_status DANE verdict.\n"
            "# TYPE mailtls_dane_status gauge\n"
            "mailtls_dane_status{domain=\"b.example\",status=\"valid\"} 0\n"
            "mailtls_dane_status{domain=\"b.example\",status=\"broken\"} 1\n");
}

TEST(ProbeResultsCollector, EscapesLabelValues) {
  ProbeResultsCollector c;
  MetricBuilder b;
  b.gauge("mailtls_tlsrpt_rua_info", "A reporting URI.",
          {{"domain", "a.example"}, {"uri", "mailto:\"x\\y\"\n@a.example"}}, 1);
  c.set("a.example", b.take());
  EXPECT_EQ(text_of(c),
            "# HELP mailtls_tlsrpt_rua_info A reporting URI.\n"
            "# TYPE mailtls_tlsrpt_rua_info gauge\n"
            "mailtls_tlsrpt_rua_info{domain=\"a.example\",uri=\"mailto:\\\"x\\\\y\\\"\\n@a.example\"} 1\n");
}

TEST(ProbeResultsCollector, SameTextAsMergedFamiliesThroughPrometheusCpp) {
  ProbeResultsCollector c;
  std::vector<prometheus::MetricFamily> merged;
  for (const char* d : {"a.example", "b.example", "c.example"}) {
    // b has no dane_status, c has a family the others lack: first appearance decides the order.
    auto f = std::string(d) == "b.example" ? envelope(d, 1) : full(d, "valid");
    if (std::string(d) == "c.example") {
      MetricBuilder b;
      b.gauge("mailtls_mtasts_txt_valid", "MTA-STS TXT valid.", {{"domain", d}}, 1);
      for (auto& x : b.take()) f.push_back(std::move(x));
    }
    c.set(d, f);
    for (const auto& fam : f) {
      auto it = std::find_if(merged.begin(), merged.end(), [&](const auto& m) { return m.name == fam.name; });
      if (it == merged.end()) {
        merged.push_back(fam);
      } else {
        it->metric.insert(it->metric.end(), fam.metric.begin(), fam.metric.end());
      }
    }
  }
  const std::string text = text_of(c);
  EXPECT_EQ(text, prometheus::TextSerializer().Serialize(merged));
  EXPECT_EQ(c.text_size(), text.size()) << "every known family is in the text";
}

TEST(ProbeResultsCollector, RemovedDomainDisappears) {
  ProbeResultsCollector c;
  c.set("a.example", full("a.example", "valid"));
  c.set("b.example", envelope("b.example", 1));
  c.retain_only({"b.example"});
  const std::string text = text_of(c);
  EXPECT_EQ(text.find("a.example"), std::string::npos) << text;
  EXPECT_EQ(text.find("mailtls_dane_status"), std::string::npos) << "a family no domain has";
  EXPECT_NE(text.find("mailtls_probe_success{domain=\"b.example\"} 1"), std::string::npos);
  c.retain_only({});
  EXPECT_EQ(text_of(c), "");
}

TEST(ProbeResultsCollector, SetReplacesThePreviousProbe) {
  ProbeResultsCollector c;
  c.set("a.example", full("a.example", "valid"));
  c.set("a.example", envelope("a.example", 0));
  const std::string text = text_of(c);
  EXPECT_EQ(text.find("mailtls_dane_status"), std::string::npos) << text;
  EXPECT_NE(text.find("mailtls_probe_success{domain=\"a.example\"} 0"), std::string::npos);
  EXPECT_EQ(text.find("mailtls_probe_success{domain=\"a.example\"} 1"), std::string::npos);
}

TEST(ProbeResultsCollector, UpdateReplacesNamedFamiliesAndKeepsTheOthers) {
  ProbeResultsCollector c;
  c.set("a.example", full("a.example", "valid"));
  c.update("a.example", envelope("a.example", 0));
  EXPECT_EQ(text_of(c),
            "# HELP mailtls_probe_success Probe ran to the end.\n"
            "# TYPE mailtls_probe_success gauge\n"
            "mailtls_probe_success{domain=\"a.example\"} 0\n"
            "# HELP mailtls_probe_duration_seconds Probe time.\n"
            "# TYPE mailtls_probe_duration_seconds gauge\n"
            "mailtls_probe_duration_seconds{domain=\"a.example\"} 0.25\n"
            "# HELP mailtls_dane_status DANE verdict.\n"
            "# TYPE mailtls_dane_status gauge\n"
            "mailtls_dane_status{domain=\"a.example\",status=\"valid\"} 1\n"
            "mailtls_dane_status{domain=\"a.example\",status=\"broken\"} 0\n");
  c.update("new.example", envelope("new.example", 0));  // nothing to keep
  EXPECT_NE(text_of(c).find("mailtls_probe_success{domain=\"new.example\"} 0"), std::string::npos);
}

}  // namespace
}  // namespace mailtls::exporter
