#include "exporter/exposition/probe_results_collector.h"

#include <string_view>

#include "exporter/exposition/metrics_text.h"

namespace mailtls::exporter {

std::uint32_t ProbeResultsCollector::family_id_locked(const prometheus::MetricFamily& family) {
  auto [it, added] = family_ids_.try_emplace(family.name, static_cast<std::uint32_t>(headers_.size()));
  if (added) {
    std::string header;
    append_family_header(header, family);
    headers_.push_back(std::move(header));
  }
  return it->second;
}

std::shared_ptr<ProbeResultsCollector::DomainText> ProbeResultsCollector::render(
    const std::vector<prometheus::MetricFamily>& families) {
  std::vector<std::uint32_t> ids;
  ids.reserve(families.size());
  {
    std::lock_guard lock(mu_);
    for (const auto& f : families) ids.push_back(family_id_locked(f));
  }
  // Rendered into a reused buffer, then copied once at its exact size: the text is kept until
  // the domain's next probe, so spare capacity would be kept too.
  thread_local std::string scratch;
  scratch.clear();
  auto text = std::make_shared<DomainText>();
  text->parts.reserve(families.size());
  for (size_t i = 0; i < families.size(); ++i) {
    const auto begin = static_cast<std::uint32_t>(scratch.size());
    append_family_samples(scratch, families[i]);
    text->parts.push_back({ids[i], begin, static_cast<std::uint32_t>(scratch.size())});
  }
  text->samples = std::string(scratch);
  return text;
}

void ProbeResultsCollector::set(const std::string& domain,
                                const std::vector<prometheus::MetricFamily>& families) {
  std::shared_ptr<const DomainText> text = render(families);
  std::lock_guard lock(mu_);
  auto& slot = by_domain_[domain];
  if (slot) samples_bytes_ -= slot->samples.size();
  samples_bytes_ += text->samples.size();
  slot = std::move(text);
}

void ProbeResultsCollector::update(const std::string& domain,
                                   const std::vector<prometheus::MetricFamily>& families) {
  auto text = render(families);
  std::lock_guard lock(mu_);
  auto& slot = by_domain_[domain];
  if (slot) {
    const size_t fresh_parts = text->parts.size();
    auto replaced = [&](std::uint32_t family) {
      for (size_t i = 0; i < fresh_parts; ++i) {
        if (text->parts[i].family == family) return true;
      }
      return false;
    };
    for (const auto& p : slot->parts) {
      if (replaced(p.family)) continue;
      const auto begin = static_cast<std::uint32_t>(text->samples.size());
      text->samples.append(slot->samples, p.begin, p.end - p.begin);
      text->parts.push_back({p.family, begin, static_cast<std::uint32_t>(text->samples.size())});
    }
    text->samples.shrink_to_fit();
    samples_bytes_ -= slot->samples.size();
  }
  samples_bytes_ += text->samples.size();
  slot = std::move(text);
}

void ProbeResultsCollector::retain_only(const std::set<std::string>& domains) {
  std::lock_guard lock(mu_);
  for (auto it = by_domain_.begin(); it != by_domain_.end();) {
    if (domains.count(it->first)) {
      ++it;
      continue;
    }
    samples_bytes_ -= it->second->samples.size();
    it = by_domain_.erase(it);
  }
}

size_t ProbeResultsCollector::text_size() const {
  std::lock_guard lock(mu_);
  size_t n = samples_bytes_;
  for (const auto& h : headers_) n += h.size();
  return n;
}

std::shared_ptr<const ProbeResultsCollector::Snapshot> ProbeResultsCollector::snapshot() const {
  auto snap = std::make_shared<Snapshot>();
  std::lock_guard lock(mu_);
  snap->domains.reserve(by_domain_.size());
  for (const auto& [name, text] : by_domain_) snap->domains.push_back(text);
  snap->headers = headers_;
  return snap;
}

void ProbeResultsCollector::write_text(const Snapshot& snap,
                                       const std::function<bool(std::string_view)>& write) {
  const auto& domains = snap.domains;
  const auto& headers = snap.headers;
  // A counting sort of every domain's parts by family: first the number of parts per family
  // and the order in which families first appear, then each part's text into its family's slot.
  std::vector<size_t> count(headers.size(), 0);
  std::vector<std::uint32_t> order;
  for (const auto& d : domains) {
    for (const auto& p : d->parts) {
      if (count[p.family]++ == 0) order.push_back(p.family);
    }
  }
  std::vector<size_t> start(headers.size(), 0);
  size_t total = 0;
  for (auto f : order) {
    start[f] = total;
    total += count[f];
  }
  std::vector<std::string_view> slots(total);
  for (const auto& d : domains) {
    const std::string_view samples = d->samples;
    for (const auto& p : d->parts) slots[start[p.family]++] = samples.substr(p.begin, p.end - p.begin);
  }
  size_t next = 0;
  for (auto f : order) {
    if (!write(headers[f])) return;
    for (size_t end = next + count[f]; next < end; ++next) {
      if (!write(slots[next])) return;
    }
  }
}

void ProbeResultsCollector::append_text(std::string& out) const {
  write_text(*snapshot(), [&out](std::string_view piece) {
    out += piece;
    return true;
  });
}

}  // namespace mailtls::exporter
