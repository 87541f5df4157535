#pragma once
// What the tests of the state history (domain_history_test.cc, sender_cache_history_test.cc)
// share: the sample report, the history applied to it as the scheduler does, and a fixed start
// time. A test says `using namespace history_tests;` inside its own namespace.

#include <chrono>

#include "tests/unit/exporter/scripted_prober.h"

namespace mailtls::exporter::history_tests {

using namespace std::chrono;
using mailtls::testing::apply_history;
using mailtls::testing::apply_history_read_only;
using mailtls::testing::sample_report;

inline const SystemTime kT0 = SystemTime(seconds(1800000000));

}  // namespace mailtls::exporter::history_tests
