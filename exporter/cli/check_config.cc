#include "exporter/cli/check_config.h"

#include <filesystem>

namespace mailtls::exporter {

ConfigResult load_config_for_check(const Flags& flags, std::string* note) {
  std::error_code ec;
  // symlink_status: a dangling link named like the default file is a file the operator meant,
  // and reading it gives the right error.
  const auto status = std::filesystem::symlink_status(flags.config_file, ec);
  const bool missing = ec == std::errc::no_such_file_or_directory ||
                       (!ec && status.type() == std::filesystem::file_type::not_found);
  if (flags.config_file_given || !missing) return load_config_file(flags.config_file);

  Config config;  // ResolverConfig's defaults: resolv.conf's servers, the root key of dns-root-data
  config.source_file = "";
  if (note) {
    const std::string& anchor = config.resolver.root_trust_anchor_file;
    std::error_code anchor_ec;
    const bool have_anchor = std::filesystem::exists(anchor, anchor_ec);
    *note = "mailtls_exporter: no " + flags.config_file +
            " here and no --config.file: checking with the system resolver (/etc/resolv.conf), "
            "the root trust anchor " + anchor +
            (have_anchor ? "" : " (missing: install Debian's dns-root-data)") +
            " and default settings";
  }
  return {std::move(config), ""};
}

}  // namespace mailtls::exporter
