#pragma once
// Serves the metrics of the latest probe of every domain. /metrics reads from here and never
// probes inline; a domain dropped from the config is dropped from here too.
//
// A domain's metrics are rendered to exposition text once, when they are stored: one compact
// string of sample lines per domain plus where each family's lines start and end. A scrape then
// only concatenates: for each family name its # HELP / # TYPE once, followed by that family's
// lines from every domain (the format wants a family's samples together). At 10,000 domains
// this keeps about 3 KB of text per domain instead of ~65 MetricFamily/ClientMetric objects,
// and a scrape copies text instead of deep-copying and serializing 650,000 series.
//
// Order: domains by name; families in the order they first appear in that domain order, each
// family's HELP and TYPE from its first appearance (the order merging the families used to give).
// Thread-safe: probes store results while scrapes append; a scrape renders from a snapshot, so
// it holds the lock only to copy pointers.

#include <prometheus/metric_family.h>

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <string_view>
#include <vector>

namespace mailtls::exporter {

class ProbeResultsCollector {
 public:
  // Replaces everything stored for `domain` by `families` (one probe's).
  void set(const std::string& domain, const std::vector<prometheus::MetricFamily>& families);
  // Replaces only the families of `domain` named in `families` and keeps its others, after
  // them: a probe that did not finish updates its envelope and keeps the last verdicts.
  void update(const std::string& domain, const std::vector<prometheus::MetricFamily>& families);
  // Drops every domain not in `domains`.
  void retain_only(const std::set<std::string>& domains);
  // What a scrape renders: the stored texts at one moment, immutable, kept alive by the
  // snapshot however long the answer takes to send.
  class Snapshot;
  std::shared_ptr<const Snapshot> snapshot() const;
  // Hands every family of `snapshot` to `write` in the exposition format, in pieces (a header,
  // one domain's lines of one family); stops early when `write` returns false.
  static void write_text(const Snapshot& snapshot, const std::function<bool(std::string_view)>& write);
  // Appends every stored family in the exposition format.
  void append_text(std::string& out) const;
  // Bytes append_text() would add at most (headers counted for every known family).
  size_t text_size() const;

 private:
  // One domain's sample lines; parts_[i] is where family `family` lies in `samples`.
  struct DomainText {
    struct Part {
      std::uint32_t family;  // index into headers_
      std::uint32_t begin;
      std::uint32_t end;
    };
    std::string samples;
    std::vector<Part> parts;
  };

  // Renders `families` (header ids taken under mu_) into a new DomainText.
  std::shared_ptr<DomainText> render(const std::vector<prometheus::MetricFamily>& families);
  std::uint32_t family_id_locked(const prometheus::MetricFamily& family);

  mutable std::mutex mu_;
  std::map<std::string, std::shared_ptr<const DomainText>> by_domain_;
  // Every family name seen, for the lifetime of the collector (a few dozen names): its id and
  // its header text. Ids index headers_.
  std::map<std::string, std::uint32_t> family_ids_;
  std::vector<std::string> headers_;
  size_t samples_bytes_ = 0;  // sum of samples.size() over by_domain_
};

class ProbeResultsCollector::Snapshot {
 public:
  std::vector<std::shared_ptr<const DomainText>> domains;  // by name
  std::vector<std::string> headers;                         // indexed by family id
};

}  // namespace mailtls::exporter
