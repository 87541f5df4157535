#include "exporter/exposition/process_collector.h"

#include <dirent.h>
#include <sys/resource.h>
#include <unistd.h>

#include <fstream>
#include <sstream>
#include <string>
#include <vector>

namespace mailtls::exporter {
namespace {

prometheus::MetricFamily gauge(const char* name, const char* help, double v,
                               prometheus::MetricType type = prometheus::MetricType::Gauge) {
  prometheus::MetricFamily f;
  f.name = name;
  f.help = help;
  f.type = type;
  prometheus::ClientMetric m;
  if (type == prometheus::MetricType::Counter) {
    m.counter.value = v;
  } else {
    m.gauge.value = v;
  }
  f.metric.push_back(m);
  return f;
}

double boot_time_seconds() {
  std::ifstream in("/proc/stat");
  std::string key;
  double value = 0;
  while (in >> key) {
    if (key == "btime") {
      in >> value;
      return value;
    }
    in.ignore(1 << 16, '\n');
  }
  return 0;
}

int open_fds() {
  int n = 0;
  if (DIR* d = opendir("/proc/self/fd")) {
    while (readdir(d) != nullptr) ++n;
    closedir(d);
    n -= 3;  // ".", ".." and the directory's own descriptor
  }
  return n;
}

}  // namespace

std::vector<prometheus::MetricFamily> ProcessCollector::Collect() const {
  std::vector<prometheus::MetricFamily> out;
  std::ifstream stat("/proc/self/stat");
  std::string line;
  std::getline(stat, line);
  // Fields after the command name, which is in parentheses and may hold spaces.
  auto close = line.rfind(')');
  if (close == std::string::npos) return out;
  std::istringstream rest(line.substr(close + 2));
  std::vector<std::string> f;
  for (std::string s; rest >> s;) f.push_back(s);
  // f[0] is field 3 (state); utime=14, stime=15, starttime=22, vsize=23, rss=24.
  if (f.size() < 22) return out;
  const double ticks = static_cast<double>(sysconf(_SC_CLK_TCK));
  const double page = static_cast<double>(sysconf(_SC_PAGESIZE));
  const double utime = std::stod(f[11]), stime = std::stod(f[12]);
  const double start = std::stod(f[19]);
  out.push_back(gauge("process_cpu_seconds_total", "Total user and system CPU time spent in seconds.",
                      (utime + stime) / ticks, prometheus::MetricType::Counter));
  out.push_back(gauge("process_start_time_seconds",
                      "Start time of the process since unix epoch in seconds.",
                      boot_time_seconds() + start / ticks));
  out.push_back(gauge("process_virtual_memory_bytes", "Virtual memory size in bytes.", std::stod(f[20])));
  out.push_back(gauge("process_resident_memory_bytes", "Resident memory size in bytes.",
                      std::stod(f[21]) * page));
  out.push_back(gauge("process_open_fds", "Number of open file descriptors.", open_fds()));
  rlimit rl{};
  if (getrlimit(RLIMIT_NOFILE, &rl) == 0) {
    out.push_back(gauge("process_max_fds", "Maximum number of open file descriptors.",
                        static_cast<double>(rl.rlim_cur)));
  }
  return out;
}

}  // namespace mailtls::exporter
