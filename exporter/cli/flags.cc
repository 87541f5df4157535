#include "exporter/cli/flags.h"

#include <functional>
#include <map>
#include <sstream>

#include "probes/dns/resolver_config.h"

namespace mailtls::exporter {
namespace {

struct FlagSpec {
  const char* help;
  std::function<std::string(Flags&, const std::string&)> set;  // returns an error or ""
  bool is_bool = false;
};

std::string one_of(const std::string& v, std::initializer_list<const char*> allowed,
                   const char* flag) {
  for (const char* a : allowed) {
    if (v == a) return "";
  }
  std::string msg = std::string("invalid value \"") + v + "\" for --" + flag + " (one of:";
  for (const char* a : allowed) msg += std::string(" ") + a;
  return msg + ")";
}

const std::map<std::string, FlagSpec>& specs() {
  static const std::map<std::string, FlagSpec> s = {
      {"config.file",
       {"Path to the YAML configuration file.",
        [](Flags& f, const std::string& v) {
          f.config_file = v;
          f.config_file_given = true;
          return std::string();
        }}},
      {"web.listen-address",
       {"Address to listen on for metrics and the web interface (host:port, [v6]:port, :port).",
        [](Flags& f, const std::string& v) { f.listen_address = v; return std::string(); }}},
      {"web.config.file",
       {"Path to a web configuration file (exporter-toolkit format: TLS and basic auth).",
        [](Flags& f, const std::string& v) { f.web_config_file = v; return std::string(); }}},
      {"log.level",
       {"Only log messages with the given severity or above: debug, info, warn, error.",
        [](Flags& f, const std::string& v) {
          f.log_level = v;
          return one_of(v, {"debug", "info", "warn", "error"}, "log.level");
        }}},
      {"log.format",
       {"Output format of log messages: logfmt or json.",
        [](Flags& f, const std::string& v) {
          f.log_format = v;
          return one_of(v, {"logfmt", "json"}, "log.format");
        }}},
      {"storage.path",
       {"Directory for state that survives restarts (TLSA first-seen times, MTA-STS history, "
        "TLS-RPT counters).",
        [](Flags& f, const std::string& v) { f.storage_path = v; return std::string(); }}},
      {"shard.count",
       {"Number of replicas the configured domains are split between (rendezvous hashing).",
        [](Flags& f, const std::string& v) {
          try {
            size_t used = 0;
            int n = std::stoi(v, &used);
            if (used != v.size() || n < 1 || n > 10000) throw std::invalid_argument(v);
            f.shard_count = n;
            return std::string();
          } catch (const std::exception&) {
            return "invalid value \"" + v + "\" for --shard.count (1 to 10000)";
          }
        }}},
      {"shard.index",
       {"This replica's shard, 0 to shard.count-1, or \"auto\" to take the ordinal from a "
        "StatefulSet host name (name-3 is shard 3).",
        [](Flags& f, const std::string& v) { f.shard_index = v; return std::string(); }}},
      {"config.check",
       {"Validate the configuration file and exit (0 valid, 1 invalid).",
        [](Flags& f, const std::string&) { f.config_check = true; return std::string(); }, true}},
      {"version",
       {"Show the version and exit.",
        [](Flags& f, const std::string&) { f.show_version = true; return std::string(); }, true}},
      {"help",
       {"Show this help and exit.",
        [](Flags& f, const std::string&) { f.show_help = true; return std::string(); }, true}},
  };
  return s;
}

}  // namespace

FlagsResult parse_flags(const std::vector<std::string>& argv) {
  Flags flags;
  for (size_t i = 1; i < argv.size(); ++i) {
    const std::string& arg = argv[i];
    if (arg == "-h") {
      flags.show_help = true;
      continue;
    }
    if (arg.rfind("--", 0) != 0 || arg == "--") {
      // Positional arguments: everything from here on (a subcommand and its operands).
      size_t start = arg == "--" ? i + 1 : i;
      for (size_t j = start; j < argv.size(); ++j) flags.args.push_back(argv[j]);
      break;
    }
    std::string name = arg.substr(2);
    std::optional<std::string> value;
    if (auto eq = name.find('='); eq != std::string::npos) {
      value = name.substr(eq + 1);
      name.resize(eq);
    }
    bool negated = false;
    auto it = specs().find(name);
    if (it == specs().end() && name.rfind("no-", 0) == 0) {
      it = specs().find(name.substr(3));
      negated = it != specs().end() && it->second.is_bool;
    }
    if (it == specs().end()) {
      return {std::nullopt, "unknown flag --" + name + " (see --help)"};
    }
    const FlagSpec& spec = it->second;
    if (spec.is_bool) {
      if (value && *value != "true" && *value != "false") {
        return {std::nullopt, "flag --" + name + " takes true or false, not \"" + *value + "\""};
      }
      bool on = !negated && (!value || *value == "true");
      if (on) spec.set(flags, "");
      continue;
    }
    if (!value) {
      if (i + 1 >= argv.size()) return {std::nullopt, "flag --" + name + " needs a value"};
      value = argv[++i];
    }
    if (std::string err = spec.set(flags, *value); !err.empty()) return {std::nullopt, err};
  }
  return {flags, ""};
}

std::string flags_usage(const std::string& program) {
  std::ostringstream out;
  Flags d;
  out << "usage: " << program << " [<flags>]\n"
      << "       " << program << " [<flags>] check [--output=text|json] [<domain>...]\n\n"
      << "Prometheus exporter for the transport security of mail domains: DANE (TLSA and\n"
      << "DNSSEC), MTA-STS, TLS-RPT and STARTTLS.\n\n"
      << "Commands:\n"
      << "  (none)\n"
      << "      Probe the configured domains on their intervals and serve /metrics, /probe,\n"
      << "      /tlsrpt and /-/reload until SIGTERM or SIGINT; SIGHUP reloads the configuration.\n"
      << "      Exit codes: 0 stopped by a signal; 1 bad flags, an invalid configuration, or the\n"
      << "      listen address or the resolver could not be set up.\n"
      << "  check [--output=text|json] [<domain>...]\n"
      << "      Probe each domain once with the exporter's own code and print a report; with no\n"
      << "      domain named, every domain of the configuration file.\n"
      << "      --output=text   readable report (the default; colour on a terminal, not with NO_COLOR)\n"
      << "      --output=json   one JSON document for pipelines: the resolver's state and the reports\n"
      << "      A configured domain is probed with its own checks and timeout. Without\n"
      << "      --config.file and with no " << d.config_file << " in the working directory,\n"
      << "      check uses the system resolver (/etc/resolv.conf), the root trust anchor\n"
      << "      " << dns::ResolverConfig{}.root_trust_anchor_file
      << " (Debian dns-root-data) and default settings.\n"
      << "      Exit codes: 0 every verdict good; 1 a verdict broken or degraded, or an invalid\n"
      << "      configuration; 2 a domain could not be probed or got no verdict (e.g. the\n"
      << "      resolver does not validate DNSSEC), or bad usage.\n\n"
      << "Flags:\n";
  for (const auto& [name, spec] : specs()) {
    out << "  --" << name << (spec.is_bool ? "" : "=VALUE") << "\n      " << spec.help << "\n";
  }
  out << "\nDefaults: --config.file=" << d.config_file << " --web.listen-address="
      << d.listen_address << " --log.level=" << d.log_level << " --log.format="
      << d.log_format << " --storage.path=" << d.storage_path << "\n";
  return out.str();
}

}  // namespace mailtls::exporter
