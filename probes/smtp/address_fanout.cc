#include "probes/smtp/address_fanout.h"

#include <algorithm>
#include <atomic>
#include <thread>

namespace mailtls::smtp {

std::vector<StarttlsResult> probe_addresses(const StarttlsProber& prober,
                                            const std::vector<StarttlsTarget>& targets,
                                            Deadline deadline, std::size_t max_parallel) {
  std::vector<StarttlsResult> results(targets.size());
  if (targets.empty()) return results;
  if (max_parallel == 0) max_parallel = kDefaultMaxParallelProbes;
  const std::size_t workers = std::min(max_parallel, targets.size());

  // Workers take the next index until none is left; each writes only its own slot.
  std::atomic<std::size_t> next{0};
  auto work = [&] {
    for (std::size_t i = next.fetch_add(1); i < targets.size(); i = next.fetch_add(1)) {
      results[i] = prober.probe(targets[i].ip, targets[i].sni_name, deadline, targets[i].only);
    }
  };
  if (workers == 1) {
    work();
    return results;
  }
  {
    std::vector<std::jthread> pool;
    pool.reserve(workers - 1);
    for (std::size_t w = 1; w < workers; ++w) pool.emplace_back(work);
    work();  // the calling thread is one of the workers
  }  // jthreads join here
  return results;
}

}  // namespace mailtls::smtp
