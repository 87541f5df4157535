#pragma once
// Command-line flags in the Prometheus style (--name=value or --name value).

#include <optional>
#include <string>
#include <vector>

namespace mailtls::exporter {

struct Flags {
  std::string config_file = "mailtls_exporter.yml";
  bool config_file_given = false;  // --config.file was on the command line
  std::string listen_address = ":9925";
  std::string web_config_file;  // exporter-toolkit format; empty: plain HTTP, no auth
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

struct FlagsResult {
  std::optional<Flags> flags;
  std::string error;  // set when flags is empty
};

FlagsResult parse_flags(const std::vector<std::string>& argv);
std::string flags_usage(const std::string& program);

}  // namespace mailtls::exporter
