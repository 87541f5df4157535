#pragma once
// Command-line flags in the Prometheus style (--name=value or --name value).

#include <chrono>
#include <optional>
#include <string>
#include <vector>

#include "probes/base/expected.h"

namespace mailtls::exporter {

struct Flags {
  std::string config_file = "mailtls_exporter.yml";
  bool config_file_given = false;  // --config.file was on the command line
  std::string listen_address = ":9925";
  std::string web_config_file;  // exporter-toolkit format; empty: plain HTTP, no auth
  // How often the config and web config files are compared with what was last read; a change
  // reloads as SIGHUP does. 0: never.
  std::chrono::milliseconds config_watch_interval{0};
  std::string log_level = "info";
  std::string log_format = "logfmt";
  std::string storage_path = "data";
  int shard_count = 1;
  std::string shard_index = "0";  // a number or "auto" (StatefulSet ordinal from the host name)
  bool config_check = false;  // validate the config and exit
  bool show_version = false;
  bool show_help = false;
  // Positional arguments after the flags, e.g. `check example.com`.
  std::vector<std::string> args;
};

// The flags, or what is wrong with the command line.
using FlagsResult = Expected<Flags, std::string>;

FlagsResult parse_flags(const std::vector<std::string>& argv);
std::string flags_usage(const std::string& program);

}  // namespace mailtls::exporter
