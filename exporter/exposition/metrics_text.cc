#include "exporter/exposition/metrics_text.h"

#include <charconv>
#include <cmath>
#include <cstdint>
#include <limits>
#include <string_view>

#include "probes/base/printable_text.h"

namespace mailtls::exporter {
namespace {

// prometheus-cpp writes a double with an ostream at precision max_digits10 - 1 (printf "%.16g"),
// NaN as "Nan" and infinities as "+Inf" / "-Inf". to_chars gives the same digits without
// depending on the locale.
void append_value(std::string& out, double v) {
  if (std::isnan(v)) {
    out += "Nan";
    return;
  }
  if (std::isinf(v)) {
    out += v < 0 ? "-Inf" : "+Inf";
    return;
  }
  char buf[64];
  auto r = std::to_chars(buf, buf + sizeof buf, v, std::chars_format::general,
                         std::numeric_limits<double>::max_digits10 - 1);
  out.append(buf, r.ptr);
}

void append_value(std::string& out, std::uint64_t v) {
  char buf[24];
  auto r = std::to_chars(buf, buf + sizeof buf, v);
  out.append(buf, r.ptr);
}

// Escapes `\`, `"` and newline in a label value (`"` too in HELP would be harmless but is not
// what the format asks there, hence the parameter).
void append_escaped(std::string& out, std::string_view s, std::string_view specials) {
  for (size_t pos = 0;;) {
    const size_t next = s.find_first_of(specials, pos);
    if (next == std::string_view::npos) {
      out.append(s.substr(pos));
      return;
    }
    out.append(s.substr(pos, next - pos));
    out += '\\';
    out += s[next] == '\n' ? 'n' : s[next];
    pos = next + 1;
  }
}

constexpr std::string_view kLabelSpecials = "\\\"\n";
constexpr std::string_view kHelpSpecials = "\\\n";

// `name{labels,extra="..."} ` up to and including the space before the value.
void append_head(std::string& out, const prometheus::MetricFamily& family,
                 const prometheus::ClientMetric& metric, std::string_view suffix = {},
                 std::string_view extra_name = {}, std::string_view extra_value = {}) {
  out += family.name;
  out += suffix;
  if (!metric.label.empty() || !extra_name.empty()) {
    out += '{';
    bool first = true;
    for (const auto& l : metric.label) {
      if (!first) out += ',';
      first = false;
      out += l.name;
      out += "=\"";
      // Prometheus refuses a whole page over one label value that is not UTF-8. Values from
      // peers are made printable before they get here (domain::make_printable); this is the
      // last line of defence, for any collector.
      if (is_valid_utf8(l.value)) {
        append_escaped(out, l.value, kLabelSpecials);
      } else {
        append_escaped(out, valid_utf8(l.value), kLabelSpecials);
      }
      out += '"';
    }
    if (!extra_name.empty()) {
      if (!first) out += ',';
      out += extra_name;
      out += "=\"";
      out += extra_value;
      out += '"';
    }
    out += '}';
  }
  out += ' ';
}

void append_tail(std::string& out, const prometheus::ClientMetric& metric) {
  if (metric.timestamp_ms != 0) {
    out += ' ';
    out += std::to_string(metric.timestamp_ms);
  }
  out += '\n';
}

// The `_count` and `_sum` series that histograms and summaries both have.
void append_count_and_sum(std::string& out, const prometheus::MetricFamily& family,
                          const prometheus::ClientMetric& metric, std::uint64_t count, double sum) {
  append_head(out, family, metric, "_count");
  append_value(out, count);
  append_tail(out, metric);
  append_head(out, family, metric, "_sum");
  append_value(out, sum);
  append_tail(out, metric);
}

void append_histogram(std::string& out, const prometheus::MetricFamily& family,
                      const prometheus::ClientMetric& metric) {
  const auto& h = metric.histogram;
  append_count_and_sum(out, family, metric, h.sample_count, h.sample_sum);
  double last = -std::numeric_limits<double>::infinity();
  for (const auto& b : h.bucket) {
    std::string le;
    append_value(le, b.upper_bound);
    append_head(out, family, metric, "_bucket", "le", le);
    append_value(out, b.cumulative_count);
    append_tail(out, metric);
    last = b.upper_bound;
  }
  if (last != std::numeric_limits<double>::infinity()) {
    append_head(out, family, metric, "_bucket", "le", "+Inf");
    append_value(out, h.sample_count);
    append_tail(out, metric);
  }
}

void append_summary(std::string& out, const prometheus::MetricFamily& family,
                    const prometheus::ClientMetric& metric) {
  const auto& s = metric.summary;
  append_count_and_sum(out, family, metric, s.sample_count, s.sample_sum);
  for (const auto& q : s.quantile) {
    std::string quantile;
    append_value(quantile, q.quantile);
    append_head(out, family, metric, "", "quantile", quantile);
    append_value(out, q.value);
    append_tail(out, metric);
  }
}

const char* type_name(prometheus::MetricType t) {
  switch (t) {
    case prometheus::MetricType::Counter: return "counter";
    case prometheus::MetricType::Gauge: return "gauge";
    case prometheus::MetricType::Summary: return "summary";
    case prometheus::MetricType::Histogram: return "histogram";
    case prometheus::MetricType::Untyped: break;
  }
  return "untyped";
}

}  // namespace

void append_family_header(std::string& out, const prometheus::MetricFamily& family) {
  if (!family.help.empty()) {
    out += "# HELP ";
    out += family.name;
    out += ' ';
    append_escaped(out, family.help, kHelpSpecials);
    out += '\n';
  }
  out += "# TYPE ";
  out += family.name;
  out += ' ';
  out += type_name(family.type);
  out += '\n';
}

void append_family_samples(std::string& out, const prometheus::MetricFamily& family) {
  for (const auto& m : family.metric) {
    switch (family.type) {
      case prometheus::MetricType::Histogram:
        append_histogram(out, family, m);
        continue;
      case prometheus::MetricType::Summary:
        append_summary(out, family, m);
        continue;
      case prometheus::MetricType::Counter:
        append_head(out, family, m);
        append_value(out, m.counter.value);
        break;
      case prometheus::MetricType::Gauge:
        append_head(out, family, m);
        append_value(out, m.gauge.value);
        break;
      case prometheus::MetricType::Untyped:
        append_head(out, family, m);
        append_value(out, m.untyped.value);
        break;
    }
    append_tail(out, m);
  }
}

void append_families(std::string& out, const std::vector<prometheus::MetricFamily>& families) {
  for (const auto& f : families) {
    append_family_header(out, f);
    append_family_samples(out, f);
  }
}

std::string render_metrics_families(const std::vector<prometheus::MetricFamily>& families) {
  std::string out;
  append_families(out, families);
  return out;
}

void append_collected(std::string& out,
                      const std::vector<std::shared_ptr<prometheus::Collectable>>& sources) {
  for (const auto& s : sources) append_families(out, s->Collect());
}

}  // namespace mailtls::exporter
