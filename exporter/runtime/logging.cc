#include "exporter/runtime/logging.h"

#include <spdlog/pattern_formatter.h>
#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/spdlog.h>

#include <chrono>
#include <cstdio>
#include <ctime>

#include "probes/base/hex.h"

namespace mailtls::exporter {
namespace {

std::string level_name(spdlog::level::level_enum l) {
  switch (l) {
    case spdlog::level::trace:
    case spdlog::level::debug: return "debug";
    case spdlog::level::info: return "info";
    case spdlog::level::warn: return "warn";
    case spdlog::level::err:
    case spdlog::level::critical: return "error";
    default: return "info";
  }
}

std::string timestamp(spdlog::log_clock::time_point tp) {
  const auto t = spdlog::log_clock::to_time_t(tp);
  const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(tp.time_since_epoch()).count() % 1000;
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[64];
  std::snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900,
                tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, static_cast<int>(ms));
  return buf;
}

// The fields of the log_event call running on this thread. spdlog's sinks here are synchronous,
// so the formatter runs inside that call, on the same thread; a plain spdlog call has none.
// Fields never travel inside the message text, so no peer text in a message can forge one.
thread_local const std::initializer_list<LogField>* current_fields = nullptr;

// A key as a bare logfmt/JSON name: letters, digits and '_' only.
std::string clean_key(std::string_view key) {
  std::string out;
  for (char ch : key) {
    const bool ok = (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') || ch == '_';
    out += ok ? ch : '_';
  }
  return out.empty() ? "field" : out;
}

class LineFormatter final : public spdlog::formatter {
 public:
  explicit LineFormatter(bool json) : json_(json) {}
  void format(const spdlog::details::log_msg& msg, spdlog::memory_buf_t& dest) override {
    const std::string line = format_log_line(json_, timestamp(msg.time), level_name(msg.level),
                                             std::string_view(msg.payload.data(), msg.payload.size()),
                                             current_fields ? *current_fields : std::initializer_list<LogField>{});
    dest.append(line.data(), line.data() + line.size());
  }
  std::unique_ptr<spdlog::formatter> clone() const override {
    return std::make_unique<LineFormatter>(json_);
  }

 private:
  bool json_;
};

}  // namespace

void log_event(spdlog::level::level_enum level, std::string_view msg,
               std::initializer_list<LogField> fields) {
  if (!spdlog::should_log(level)) return;
  current_fields = &fields;
  spdlog::log(level, "{}", msg);
  current_fields = nullptr;
}

std::string format_log_line(bool json, const std::string& ts, const std::string& level,
                            std::string_view msg, std::initializer_list<LogField> fields) {
  const std::string text(msg);
  std::string line = json ? "{\"ts\":" + json_quote(ts) + ",\"level\":" + json_quote(level) +
                                ",\"msg\":" + json_quote(text)
                          : "ts=" + ts + " level=" + level + " msg=" + logfmt_quote(text);
  for (const auto& f : fields) {
    const std::string key = clean_key(f.key);
    const std::string value(f.value);
    line += json ? "," + json_quote(key) + ":" + json_quote(value) : " " + key + "=" + logfmt_quote(value);
  }
  return line + (json ? "}\n" : "\n");
}

std::string logfmt_quote(const std::string& s) {
  std::string out = "\"";
  for (unsigned char ch : s) {
    if (ch == '"' || ch == '\\') {
      out += '\\';
      out += static_cast<char>(ch);
    } else if (ch == '\n') {
      out += "\\n";
    } else if (ch < 0x20 || ch == 0x7f) {
      out += "\\x";
      append_hex(out, ch);
    } else {
      out += static_cast<char>(ch);
    }
  }
  return out + "\"";
}

std::string json_quote(const std::string& s) {
  std::string out = "\"";
  for (unsigned char ch : s) {
    switch (ch) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\n': out += "\\n"; break;
      case '\r': out += "\\r"; break;
      case '\t': out += "\\t"; break;
      default:
        if (ch < 0x20 || ch == 0x7f) {
          out += "\\u00";
          append_hex(out, ch);
        } else {
          out += static_cast<char>(ch);
        }
    }
  }
  return out + "\"";
}

void setup_logging(const std::string& level, const std::string& format) {
  auto logger = std::make_shared<spdlog::logger>("mailtls",
                                                 std::make_shared<spdlog::sinks::stderr_sink_mt>());
  logger->set_formatter(std::make_unique<LineFormatter>(format == "json"));
  if (level == "debug") logger->set_level(spdlog::level::debug);
  else if (level == "warn") logger->set_level(spdlog::level::warn);
  else if (level == "error") logger->set_level(spdlog::level::err);
  else logger->set_level(spdlog::level::info);
  logger->flush_on(spdlog::level::info);
  spdlog::set_default_logger(logger);
}

}  // namespace mailtls::exporter
