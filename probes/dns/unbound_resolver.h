#pragma once
// The production Resolver: a validating libunbound context. Thread-safe; any number of
// lookups run at once. One event thread feeds libunbound's answers to the waiting callers,
// each of which waits no longer than its Deadline (and the configured per-lookup timeout).

#include <memory>
#include <string>
#include <string_view>

#include "probes/base/clock.h"
#include "probes/dns/resolver.h"
#include "probes/dns/resolver_config.h"

namespace mailtls::dns {

class UnboundResolver;

// Either a resolver or, when the configuration cannot be used (unreadable anchor file, bad
// address, anchor libunbound rejects), a message saying why.
struct UnboundResolverOrError {
  std::unique_ptr<UnboundResolver> resolver;
  std::string error;
};

class UnboundResolver final : public Resolver {
 public:
  // Builds a validating context from `config`. Never permissive: module-config stays
  // "validator iterator" and val-permissive-mode stays off. `clock` (borrowed, must outlive
  // the resolver; nullptr = system clock) places RRSIG expiries.
  static UnboundResolverOrError create(const ResolverConfig& config, const Clock* clock = nullptr);

  ~UnboundResolver() override;
  UnboundResolver(const UnboundResolver&) = delete;
  UnboundResolver& operator=(const UnboundResolver&) = delete;

  Answer lookup(std::string_view name, RrType type, Deadline deadline) override;

  struct State;  // libunbound context, event thread, the lookups in flight

 private:
  explicit UnboundResolver(std::unique_ptr<State> state);
  std::unique_ptr<State> state_;
};

}  // namespace mailtls::dns
