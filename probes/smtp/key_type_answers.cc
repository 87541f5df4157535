#include "probes/smtp/key_type_answers.h"

#include <openssl/evp.h>
#include <openssl/x509.h>

#include <algorithm>

#include "probes/smtp/other_key_type_probe.h"

namespace mailtls::smtp {
namespace {

// The chain as digests of its certificates' encodings as presented. A certificate whose digest
// cannot be made gets none, which no later chain equals: the answer is asked again.
std::vector<Sha256Digest> chain_digests(const tls::X509Chain& chain) {
  std::vector<Sha256Digest> out;
  out.reserve(chain.size());
  for (std::size_t i = 0; i < chain.size(); ++i) {
    Sha256Digest d{};
    unsigned int length = 0;
    if (X509_digest(chain[i], EVP_sha256(), d.data(), &length) != 1 || length != d.size()) {
      return {};
    }
    out.push_back(d);
  }
  return out;
}

bool says_something(const StarttlsResult& limited) {
  if (!limited.key_type_limit) return false;
  return key_type_offer(limited, *limited.key_type_limit) != KeyTypeOffer::kUnknown;
}

}  // namespace

KeyTypeAnswers::KeyTypeAnswers(std::chrono::milliseconds recheck_interval)
    : interval_(recheck_interval) {}

bool KeyTypeAnswers::fresh(const Entry& e, SystemTime now) const {
  // A clock set back makes an answer look as if from the future: asked again.
  return e.checked_at <= now && now - e.checked_at <= interval_;
}

std::optional<KeyTypeAnswers::Answer> KeyTypeAnswers::find(const ObservationKey& key,
                                                           const StarttlsResult& first,
                                                           SystemTime now) const {
  if (interval_ <= std::chrono::milliseconds::zero()) return std::nullopt;
  const auto current = chain_digests(first.chain);
  if (current.empty()) return std::nullopt;
  std::shared_ptr<const StarttlsResult> limited;
  SystemTime checked_at;
  {
    std::lock_guard lock(mu_);
    const auto it = entries_.find(key);
    if (it == entries_.end() || !fresh(it->second, now) || it->second.first_chain != current) {
      return std::nullopt;
    }
    limited = it->second.limited;
    checked_at = it->second.checked_at;
  }
  return Answer{*limited, checked_at};
}

void KeyTypeAnswers::keep(const ObservationKey& key, const StarttlsResult& first,
                          const StarttlsResult& limited, SystemTime checked_at) {
  if (interval_ <= std::chrono::milliseconds::zero() || !says_something(limited)) return;
  auto digests = chain_digests(first.chain);
  if (digests.empty()) return;
  auto kept = std::make_shared<const StarttlsResult>(limited);
  std::lock_guard lock(mu_);
  entries_[key] = Entry{std::move(digests), std::move(kept), checked_at};
  if (entries_.size() > sweep_at_) sweep_expired(checked_at);
}

void KeyTypeAnswers::sweep_expired(SystemTime now) {
  std::erase_if(entries_, [this, now](const auto& kv) { return !fresh(kv.second, now); });
  sweep_at_ = std::max<std::size_t>(1024, entries_.size() * 2);
}

std::size_t KeyTypeAnswers::size() const {
  std::lock_guard lock(mu_);
  return entries_.size();
}

}  // namespace mailtls::smtp
