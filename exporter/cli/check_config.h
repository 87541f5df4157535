#pragma once
// The configuration `check` runs with. A newcomer types `mailtls_exporter check example.com` with
// no config file anywhere: when --config.file was not given and the default file does not exist,
// `check` uses the system resolver (/etc/resolv.conf), Debian's root trust anchor (dns-root-data,
// /usr/share/dns/root.key) and the defaults for everything else. A file named with
// --config.file that is missing is still an error, and so is a default file that exists but
// cannot be read or is invalid.

#include <string>

#include "exporter/config/config.h"
#include "exporter/cli/flags.h"

namespace mailtls::exporter {

// The loaded (or default) configuration, or an error as load_config_file gives it. `note` is
// set to one line for stderr when the defaults are used.
ConfigResult load_config_for_check(const Flags& flags, std::string* note);

}  // namespace mailtls::exporter
