#include "probes/dns/unbound_resolver.h"

#include <arpa/inet.h>
#include <poll.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <unbound.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstring>
#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <mutex>
#include <optional>
#include <thread>

#include "probes/base/unique_fd.h"
#include "probes/dns/answer_cache.h"
#include "probes/dns/ub_result_classification.h"

namespace mailtls::dns {
namespace {

// Answers kept in front of libunbound (answer_cache.h). About 0.5 KB each: at most ~8 MB. A
// mail domain needs about seven (MX, the MX host's A, AAAA, TLSA, two TXT, a CNAME check), so
// this holds every answer of ~2,000 domains, and the shared MX hosts' answers of any number.
constexpr std::size_t kMaxCachedAnswers = 16384;

// libunbound keeps process-wide state that its setup and teardown change without a lock of its
// own: the config parser (flex and bison globals, ub_ctx_config), the log destination and
// verbosity (ub_ctx_create, ub_ctx_debugout, ub_ctx_delete) and what the first query of a context
// sets up (context_finalize applies settings to globals). Two contexts set up at once (two
// concurrent reloads) crashed the exporter ("fatal flex scanner internal error", exit 2, or
// SIGSEGV) or left the parser broken for every later context. Every ub_ctx_create up to the first
// query, and every ub_ctx_delete, holds this mutex.
std::mutex& setup_mutex() {
  static std::mutex mu;
  return mu;
}

// Where libunbound logs (bogus reasons at val-log-level 2, not for stderr). One for the process,
// never closed: the log destination is a libunbound global that any context's thread writes to,
// so a per-context file closed with its context could still be written (use after close).
std::FILE* log_sink() {
  static std::FILE* sink = std::fopen("/dev/null", "w");
  return sink;
}

struct UbCtxDeleter {
  void operator()(ub_ctx* c) const noexcept {
    std::lock_guard lock(setup_mutex());
    ub_ctx_delete(c);
  }
};
using UbCtxPtr = std::unique_ptr<ub_ctx, UbCtxDeleter>;
struct UbResultDeleter {
  void operator()(ub_result* r) const noexcept { ub_resolve_free(r); }
};
using UbResultPtr = std::unique_ptr<ub_result, UbResultDeleter>;

// "192.0.2.1", "::1", "127.0.0.1@5300", "::1@5300": the forms unbound's stub-addr and
// ub_ctx_set_fwd accept. Checked here so a typo is a config error, not silent SERVFAIL.
bool valid_server_address(std::string_view s) {
  std::string_view ip = s;
  const auto at = s.rfind('@');
  if (at != std::string_view::npos) {
    ip = s.substr(0, at);
    const std::string_view port = s.substr(at + 1);
    if (port.empty() || port.size() > 5) return false;
    int p = 0;
    for (char c : port) {
      if (c < '0' || c > '9') return false;
      p = p * 10 + (c - '0');
    }
    if (p == 0 || p > 65535) return false;
  }
  const std::string ip_str(ip);
  unsigned char buf[16];
  return ::inet_pton(AF_INET, ip_str.c_str(), buf) == 1 ||
         ::inet_pton(AF_INET6, ip_str.c_str(), buf) == 1;
}

bool readable(const std::string& path) { return std::ifstream(path).good(); }

// Letters, digits, '-', '_' and dots: a name that goes into the generated unbound config must
// never make it fail to parse. A parse that stops at an error leaves libunbound's (global) lexer
// holding the rest of the text, which the next context's parse would read first.
bool safe_zone_name(std::string_view z) {
  if (z.empty()) return false;
  for (char c : z) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                    c == '-' || c == '_' || c == '.';
    if (!ok) return false;
  }
  return true;
}

UbResultFields fields_of(int err, ub_result* r) {
  UbResultFields f;
  f.err = err;
  if (err != 0) f.err_text = ub_strerror(err);
  f.have_result = r != nullptr;
  if (r == nullptr) return f;
  f.rcode = r->rcode;
  f.havedata = r->havedata != 0;
  f.nxdomain = r->nxdomain != 0;
  f.secure = r->secure != 0;
  f.bogus = r->bogus != 0;
  if (r->why_bogus != nullptr) f.why_bogus = r->why_bogus;
  f.was_ratelimited = r->was_ratelimited != 0;
  f.ttl = r->ttl;
  if (r->canonname != nullptr) f.canonname = r->canonname;
  for (int i = 0; r->data != nullptr && r->data[i] != nullptr; ++i) {
    f.data.emplace_back(r->data[i], static_cast<std::size_t>(r->len[i]));
  }
  if (r->answer_packet != nullptr && r->answer_len > 0) {
    f.answer_packet.assign(static_cast<const char*>(r->answer_packet),
                           static_cast<std::size_t>(r->answer_len));
  }
  return f;
}

// One lookup in flight. Shared between the waiting caller and libunbound's callback: whichever
// finishes last frees it, so a late answer after a timeout touches live memory.
struct PendingLookup {
  std::mutex mu;
  std::condition_variable done_cv;
  bool done = false;
  UbResultFields fields;
};

void on_answer(void* arg, int err, ub_result* result) {
  UbResultPtr owned(result);
  std::unique_ptr<std::shared_ptr<PendingLookup>> holder(
      static_cast<std::shared_ptr<PendingLookup>*>(arg));
  PendingLookup& p = **holder;
  UbResultFields f = fields_of(err, owned.get());
  {
    std::lock_guard lock(p.mu);
    p.fields = std::move(f);
    p.done = true;
  }
  p.done_cv.notify_all();
}

// The libunbound settings ub_ctx_set_option cannot make stick (local-zone nodefault) or has no
// setter for (stub zones with ports), written to a file for ub_ctx_config.
std::string config_file_text(const ResolverConfig& config) {
  std::string text =
      "server:\n"
      "  module-config: \"validator iterator\"\n"
      "  val-permissive-mode: no\n"
      "  val-log-level: 2\n"  // fills why_bogus
      "  do-not-query-localhost: no\n"
      // Validated RRsets stay in the cache for their TTL and are not validated again. The
      // defaults (4 MB each) hold the records of about 1,000 mail domains (MX, A, AAAA, TLSA,
      // two TXT denials, with signatures): beyond that, evictions made every probe validate
      // again (CPU per probe 2.4 ms at 100 domains, 3.9 ms at 1,000, TTL 300 s). These caps
      // are upper bounds; memory is used as records arrive.
      "  msg-cache-size: 8m\n"
      "  rrset-cache-size: 16m\n"
      "  key-cache-size: 8m\n"
      "  local-zone: \"test.\" nodefault\n";
  for (const StubZone& z : config.stub_zones) {
    text += "stub-zone:\n  name: \"" + z.zone + "\"\n";
    for (const std::string& addr : z.addresses) text += "  stub-addr: " + addr + "\n";
  }
  return text;
}

// Configures a fresh context and makes its first query, which finalizes it. Called with
// setup_mutex() held; returns "" or why the configuration cannot be used.
std::string set_up_context(ub_ctx* ctx, const ResolverConfig& config) {
  auto fail = [](const std::string& what, int err) {
    return "resolver: " + what + ": " + ub_strerror(err);
  };
  // ub_ctx_config wants a file name. An in-memory file (memfd) works on a read-only root
  // filesystem with no writable /tmp (a hardened container or systemd unit), where a temporary
  // file could not be created.
  UniqueFd file(::memfd_create("mailtls-unbound.conf", MFD_CLOEXEC));
  if (!file.valid()) {
    return std::string("resolver: cannot create the in-memory unbound config: ") + std::strerror(errno);
  }
  const std::string text = config_file_text(config);
  if (::write(file.get(), text.data(), text.size()) != static_cast<ssize_t>(text.size())) {
    return "resolver: cannot write the in-memory unbound config";
  }
  const std::string path = "/proc/self/fd/" + std::to_string(file.get());
  if (int err = ub_ctx_config(ctx, path.c_str()); err != 0) return fail("unbound config", err);

  if (std::FILE* sink = log_sink()) ub_ctx_debugout(ctx, sink);

  if (!config.forwarders.empty()) {
    for (const std::string& f : config.forwarders) {
      if (int err = ub_ctx_set_fwd(ctx, f.c_str()); err != 0) return fail("forwarder " + f, err);
    }
  } else if (config.use_resolv_conf) {
    // Stub zones still answer for their own zones (unbound punches them out of forwarding).
    if (int err = ub_ctx_resolvconf(ctx, nullptr); err != 0) return fail("resolv.conf", err);
  }
  if (!config.root_trust_anchor_file.empty()) {
    if (int err = ub_ctx_add_ta_file(ctx, config.root_trust_anchor_file.c_str()); err != 0) {
      return fail("root trust anchor " + config.root_trust_anchor_file, err);
    }
  }
  for (const std::string& ta : config.trust_anchors) {
    if (int err = ub_ctx_add_ta(ctx, ta.c_str()); err != 0) return fail("trust anchor " + ta, err);
  }
  for (const std::string& f : config.trust_anchor_files) {
    if (int err = ub_ctx_add_ta_file(ctx, f.c_str()); err != 0) {
      return fail("trust anchor file " + f, err);
    }
  }
  if (int err = ub_ctx_async(ctx, 1); err != 0) return fail("async mode", err);

  // libunbound reads anchors and settings lazily, at the first query. Ask one it answers from
  // its own local zone (no network) so a bad anchor is reported now, not at the first probe.
  int warmup_id = 0;
  if (int err = ub_resolve_async(ctx, "localhost.", 1, 1, nullptr,
                                 [](void*, int, ub_result* r) { ub_resolve_free(r); }, &warmup_id);
      err != 0) {
    return fail("initialising (check the trust anchors)", err);
  }
  return "";
}

}  // namespace

struct UnboundResolver::State {
  UbCtxPtr ctx;
  UniqueFd wake_fd;  // eventfd that stops the event thread
  std::thread event_thread;
  std::chrono::milliseconds lookup_timeout{10000};
  const Clock* clock = nullptr;
  SystemClock system_clock;
  AnswerCache answers{kMaxCachedAnswers};

  void run_events() {
    const int ub = ub_fd(ctx.get());
    while (true) {
      pollfd fds[2] = {{ub, POLLIN, 0}, {wake_fd.get(), POLLIN, 0}};
      const int n = ::poll(fds, 2, -1);
      if (n < 0) {
        if (errno == EINTR) continue;
        return;
      }
      if ((fds[1].revents & POLLIN) != 0) return;
      if ((fds[0].revents & (POLLIN | POLLERR | POLLHUP)) != 0) {
        if (ub_process(ctx.get()) != 0) {
          // The pipe to the resolver thread broke; nothing more will arrive. Waiters time out.
          return;
        }
      }
    }
  }
};

UnboundResolverOrError UnboundResolver::create(const ResolverConfig& config, const Clock* clock) {
  UnboundResolverOrError out;
  for (const std::string& f : config.forwarders) {
    if (!valid_server_address(f)) {
      out.error = "resolver: bad forwarder address \"" + f + "\" (want IP or IP@port)";
      return out;
    }
  }
  for (const StubZone& z : config.stub_zones) {
    if (!safe_zone_name(z.zone)) {
      out.error = "resolver: bad stub zone name \"" + z.zone + "\"";
      return out;
    }
    if (z.addresses.empty()) {
      out.error = "resolver: stub zone \"" + z.zone + "\" has no addresses";
      return out;
    }
    for (const std::string& a : z.addresses) {
      if (!valid_server_address(a)) {
        out.error = "resolver: bad address \"" + a + "\" for stub zone \"" + z.zone + "\"";
        return out;
      }
    }
  }
  if (!config.root_trust_anchor_file.empty() && !readable(config.root_trust_anchor_file)) {
    out.error = "resolver: cannot read root trust anchor file " + config.root_trust_anchor_file;
    return out;
  }
  for (const std::string& f : config.trust_anchor_files) {
    if (!readable(f)) {
      out.error = "resolver: cannot read trust anchor file " + f;
      return out;
    }
  }
  if (config.lookup_timeout_ms <= 0) {
    out.error = "resolver: lookup timeout must be positive";
    return out;
  }

  auto state = std::make_unique<State>();
  state->clock = clock != nullptr ? clock : &state->system_clock;
  state->lookup_timeout = std::chrono::milliseconds(config.lookup_timeout_ms);
  {
    std::lock_guard lock(setup_mutex());
    state->ctx.reset(ub_ctx_create());
    out.error = state->ctx ? set_up_context(state->ctx.get(), config) : "resolver: ub_ctx_create failed";
  }
  // A context that failed goes with `state`, after the lock (its deleter takes it).
  if (!out.error.empty()) return out;

  state->wake_fd.reset(::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK));
  if (!state->wake_fd.valid()) {
    out.error = "resolver: eventfd failed";
    return out;
  }
  State* raw = state.get();
  state->event_thread = std::thread([raw] { raw->run_events(); });
  out.resolver.reset(new UnboundResolver(std::move(state)));
  return out;
}

UnboundResolver::UnboundResolver(std::unique_ptr<State> state) : state_(std::move(state)) {}

UnboundResolver::~UnboundResolver() {
  const std::uint64_t one = 1;
  [[maybe_unused]] const auto n = ::write(state_->wake_fd.get(), &one, sizeof one);
  if (state_->event_thread.joinable()) state_->event_thread.join();
  // ub_ctx_delete (via the owner) stops libunbound's thread; callbacks of cancelled lookups
  // were never going to run.
}

Answer UnboundResolver::lookup(std::string_view name, RrType type, Deadline deadline) {
  if (auto kept = state_->answers.find(name, type, std::chrono::steady_clock::now())) return *kept;
  const Deadline limit = deadline.capped(state_->lookup_timeout);
  std::string qname(name);
  if (qname.empty() || qname.back() != '.') qname.push_back('.');

  auto pending = std::make_shared<PendingLookup>();
  auto* holder = new std::shared_ptr<PendingLookup>(pending);
  int async_id = 0;
  const int err = ub_resolve_async(state_->ctx.get(), qname.c_str(), static_cast<int>(type),
                                   1 /* IN */, holder, on_answer, &async_id);
  if (err != 0) {
    delete holder;
    UbResultFields f;
    f.err = err;
    f.err_text = ub_strerror(err);
    return classify_ub_result(name, type, f, state_->clock->now());
  }

  std::unique_lock lock(pending->mu);
  if (!pending->done_cv.wait_until(lock, limit.at(), [&] { return pending->done; })) {
    lock.unlock();
    // Cancelled in time: libunbound will not call back, so the holder is ours to free. If the
    // answer is already on its way (UB_NOID), the callback frees it.
    if (ub_cancel(state_->ctx.get(), async_id) == UB_NOERROR) delete holder;
    Answer a;
    a.qname = normalize_name(name);
    a.type = type;
    a.canonical_name = a.qname;
    a.outcome = Outcome::kError;
    a.security = Security::kIndeterminate;
    a.reason = "timeout";
    return a;
  }
  UbResultFields fields = std::move(pending->fields);
  lock.unlock();
  Answer a = classify_ub_result(name, type, fields, state_->clock->now());
  state_->answers.store(a, std::chrono::steady_clock::now());
  return a;
}

}  // namespace mailtls::dns
