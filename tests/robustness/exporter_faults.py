#!/usr/bin/env python3
"""Fault tests for the exporter binary, each one a check that prints what it saw:

  resolver_unreachable  stub zone and forwarder on a closed port: `check` ends with exit 2,
                        probe failed with "resolver unreachable", no DANE/MTA-STS verdict (O1),
                        never a hang
  state_readonly        --storage.path on a read-only tmpfs (own mount namespace) holding a
                        good state.json: starts, loads it, serves, reports save errors, stays up;
                        a report that cannot be saved is answered 503 and not counted (R5)
  state_full            --storage.path on a full 64 kB tmpfs: POSTs answered 503 (not stored,
                        the sender retries), process up, state.json afterwards still the last
                        complete document, no temp left
  config_deleted_sighup config file deleted, then SIGHUP: keeps running with the old config,
                        mailtls_config_last_reload_successful 0
  sigkill_state_write   POST /tlsrpt hammered while the process is SIGKILLed, five times:
                        state.json always loads (no .corrupt-* file) and the reports counter
                        never falls below the number of reports acknowledged with 200
  port_in_use           --web.listen-address on a bound port: exit 1 and a message naming it
  healthy_during_self_test  resolver unreachable: /-/healthy answers before the first DNSSEC
                        self-test has ended (it runs in the background, O3), and
                        mailtls_resolver_dnssec_validating is absent until then, 0 after
  reload_bad_domain_files  SIGHUP after adding a domain_files path the OS cannot stat: old
                        config kept, reload_successful 0 (R6, fixed)
  slow_clients          16 slowloris clients (a header byte every 2 s): /metrics must still
                        answer (R4, fixed by a larger worker pool)

Usage: exporter_faults.py --exporter <binary> [--only name,...]
Mount-based faults need root and unshare(1); they are skipped (not failed) otherwise.
Exit 0 all passed, 1 a failure, 77 when everything was skipped.
"""
import argparse
import json
import os
import random
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import hostile_peers as hp  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
REPORT = os.path.join(HERE, "..", "data", "tlsrpt", "rfc8460-appendix-b.json")


class Skip(Exception):
    pass


def config_text(dns_port, domains=(), receiver=True, timeout_s=5):
    text = f"""defaults:
  interval: 30s
  timeout: {timeout_s}s
resolver:
  use_resolv_conf: false
  forwarders: ["127.0.0.1@{dns_port}"]
  root_trust_anchor_file: ""
  stub_zones:
    - zone: test
      addresses: ["127.0.0.1@{dns_port}"]
  lookup_timeout: 1s
smtp:
  probe_special_addresses: true
"""
    if receiver:
        text += "tlsrpt_receiver:\n  enabled: true\n"
    text += "domains:\n" + "".join(f"  - name: {d}\n" for d in domains) if domains else "domains: []\n"
    return text


def http(port, path, data=None, headers=None, timeout=5):
    req = urllib.request.Request(f"http://127.0.0.1:{port}{path}", data=data,
                                 headers=headers or {})
    try:
        with urllib.request.urlopen(req, timeout=timeout) as r:
            return r.status, r.read().decode(errors="replace")
    except urllib.error.HTTPError as e:
        return e.code, e.read().decode(errors="replace")


def metric(body, name, labels_contain=""):
    total, found = 0.0, False
    for line in body.splitlines():
        if line.startswith(name) and (line[len(name):len(name) + 1] in ("{", " ")) \
                and labels_contain in line:
            total += float(line.rsplit(" ", 1)[1])
            found = True
    return total if found else None


def report_body(n):
    doc = json.load(open(REPORT))
    doc["report-id"] = f"robustness-{os.getpid()}-{n}"
    return json.dumps(doc).encode()


class Exporter:
    def __init__(self, binary, config, storage, wrap=None, port=None):
        self.port = port or hp.free_port()
        self.log_path = os.path.join(os.path.dirname(config), f"exporter-{self.port}.log")
        argv = [binary, "--config.file", config, "--web.listen-address",
                f"127.0.0.1:{self.port}", "--storage.path", storage]
        self.log = open(self.log_path, "a")
        self.proc = subprocess.Popen((wrap or []) + argv, stdout=self.log,
                                     stderr=subprocess.STDOUT)

    def wait_ready(self, limit=60):
        t0 = time.monotonic()
        while time.monotonic() - t0 < limit:
            if self.proc.poll() is not None:
                return False
            try:
                if http(self.port, "/-/healthy", timeout=1)[0] == 200:
                    return True
            except OSError:
                time.sleep(0.1)
        return False

    def alive(self):
        return self.proc.poll() is None

    def stop(self, sig=signal.SIGTERM):
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.log.close()

    def log_text(self):
        return open(self.log_path).read()


def need_root():
    if os.geteuid() != 0 or shutil.which("unshare") is None:
        raise Skip("needs root and unshare(1) for a private mount namespace")


# ---------------------------------------------------------------------------------------------

def t_resolver_unreachable(binary, tmp, dns):
    closed = hp.free_port()  # bound once, then closed: nothing listens there
    cfg = os.path.join(tmp, "unreachable.yaml")
    open(cfg, "w").write(config_text(closed, receiver=False, timeout_s=5))
    t0 = time.monotonic()
    p = subprocess.run([binary, "--config.file", cfg, "check", "--output=json", "dane-good.test"],
                       capture_output=True, text=True, timeout=120)
    elapsed = time.monotonic() - t0
    doc = json.loads(p.stdout)
    r = doc["domains"][0]
    securities = {x.get("security") for x in r.get("dnssec", [])}
    print(f"  exit {p.returncode} after {elapsed:.1f}s; probe_success {r.get('probe_success')}, "
          f"dane {r.get('dane_status')}, mtasts {r.get('mtasts_status')}, DNS security {securities},"
          f" error {r.get('probe_error')!r}")
    assert p.returncode in (1, 2), f"exit {p.returncode}"
    assert elapsed < 60, f"took {elapsed:.0f}s"
    assert securities and securities <= {"indeterminate", "bogus"}, securities
    # The monitor's fault, not the domain's (O1): no verdict at all (neither the reassuring
    # "valid"/"not_deployed" nor "bogus"/"broken", which would page the domain's owner), the
    # probe did not finish, and the error names the resolver.
    assert p.returncode == 2, f"exit {p.returncode}"
    assert not r.get("probe_success"), r.get("probe_success")
    assert (r.get("probe_error") or "").startswith("resolver unreachable"), r.get("probe_error")
    assert r.get("dane_status") == "not checked: resolver unreachable", r.get("dane_status")
    assert r.get("mtasts_status") == "not checked: resolver unreachable", r.get("mtasts_status")
    assert r.get("no_verdict") == "resolver_unreachable", r.get("no_verdict")
    assert doc["resolver"]["validating"] is False, doc["resolver"]


def mounted_exporter(binary, cfg, storage, setup):
    """The exporter in its own mount namespace after `setup` (shell commands) ran there."""
    script = setup + ' && exec "$@"'
    return Exporter(binary, cfg, storage, wrap=["unshare", "-m", "--propagation", "private",
                                                 "sh", "-c", script, "sh"])


def good_state(storage_src, binary, dns):
    """A state.json with one accepted report, made by the exporter itself."""
    cfg = os.path.join(os.path.dirname(storage_src), "seed.yaml")
    open(cfg, "w").write(config_text(dns.port))
    e = Exporter(binary, cfg, storage_src)
    assert e.wait_ready(), "seed exporter did not start: " + e.log_text()[-500:]
    status, _ = http(e.port, "/tlsrpt", report_body("seed"),
                     {"Content-Type": "application/tlsrpt+json"})
    assert status == 200, status
    e.stop()
    return json.load(open(os.path.join(storage_src, "state.json")))


def t_state_readonly(binary, tmp, dns):
    need_root()
    src = os.path.join(tmp, "ro-src")
    good_state(src, binary, dns)
    mnt = os.path.join(tmp, "ro")
    os.makedirs(mnt)
    cfg = os.path.join(tmp, "ro.yaml")
    open(cfg, "w").write(config_text(dns.port))
    e = mounted_exporter(binary, cfg, mnt,
                         f"mount -t tmpfs -o size=1m tmpfs {mnt} && cp {src}/state.json {mnt}/ "
                         f"&& mount -o remount,ro {mnt}")
    try:
        assert e.wait_ready(), "did not start on a read-only state dir: " + e.log_text()[-800:]
        status, _ = http(e.port, "/tlsrpt", report_body("ro"),
                         {"Content-Type": "application/tlsrpt+json"})
        _, body = http(e.port, "/metrics")
        reports = metric(body, "mailtls_tlsrpt_reports_total")
        log = e.log_text()
        save_errors = [l for l in log.splitlines() if "sav" in l and "fail" in l]
        print(f"  POST answered {status}; reports_total {reports} (1 loaded, the new one not "
              f"stored); alive {e.alive()}; log: {save_errors[:1]}")
        assert e.alive()
        assert status == 503, f"a report that cannot be saved was answered {status}"
        assert reports == 1, f"reports_total {reports}: want the loaded one only"
        assert save_errors, "no save error was logged"
    finally:
        e.stop()


def t_state_full(binary, tmp, dns):
    need_root()
    src = os.path.join(tmp, "full-src")
    before = good_state(src, binary, dns)
    mnt = os.path.join(tmp, "full")
    os.makedirs(mnt)
    cfg = os.path.join(tmp, "full.yaml")
    open(cfg, "w").write(config_text(dns.port))
    # The state file, then a filler that takes every remaining block; the check at the end runs
    # inside the namespace too (the mount is gone outside it).
    verdict = os.path.join(tmp, "full-verdict.txt")
    setup = (f"mount -t tmpfs -o size=64k tmpfs {mnt} && cp {src}/state.json {mnt}/ && "
             f"(dd if=/dev/zero of={mnt}/filler bs=4k 2>/dev/null; true) && "
             f"trap 'ls -a {mnt} > {verdict}; cat {mnt}/state.json >> {verdict}' EXIT")
    # exec would drop the trap: run the exporter as a child of the namespace's shell instead.
    script = setup + ' && "$@"'
    e = Exporter(binary, cfg, mnt, wrap=["unshare", "-m", "--propagation", "private", "sh", "-c",
                                         script, "sh"])
    try:
        assert e.wait_ready(), "did not start on a full state dir: " + e.log_text()[-800:]
        statuses = [http(e.port, "/tlsrpt", report_body(f"full-{i}"),
                         {"Content-Type": "application/tlsrpt+json"})[0] for i in range(20)]
        _, body = http(e.port, "/metrics")
        reports = metric(body, "mailtls_tlsrpt_reports_total")
        alive = e.alive()
    finally:
        # Stop the exporter (the namespace shell's child, by parent pid); the shell then runs
        # its EXIT trap, which records the directory, and exits.
        subprocess.run(["pkill", "-TERM", "-P", str(e.proc.pid)], check=False)
        try:
            e.proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            pass
        e.stop()
    listing = open(verdict).read() if os.path.exists(verdict) else ""
    names, _, state_text = listing.partition("{")
    state_ok = True
    try:
        after = json.loads("{" + state_text)
    except json.JSONDecodeError:
        state_ok = False
        after = None
    log = e.log_text()
    enospc = sum(1 for l in log.splitlines() if "No space left" in l)
    print(f"  20 POSTs answered {sorted(set(statuses))}; reports_total {reports}; alive {alive}; "
          f"'No space left' logged {enospc}x; files after: {names.split()}; "
          f"state.json parses {state_ok}")
    assert alive
    assert set(statuses) == {503}, statuses
    assert reports == 1, reports
    assert enospc > 0, "ENOSPC not reported in the log"
    assert state_ok and after.get("sections") == before.get("sections"), \
        "state.json is not the last complete document"
    assert not any(n.endswith(".tmp") for n in names.split()), "a temp file was left behind"


def t_config_deleted_sighup(binary, tmp, dns):
    cfg = os.path.join(tmp, "deleted.yaml")
    open(cfg, "w").write(config_text(dns.port, domains=["a.test", "b.test"], receiver=False))
    e = Exporter(binary, cfg, os.path.join(tmp, "deleted-state"))
    try:
        assert e.wait_ready(), e.log_text()[-500:]
        _, body = http(e.port, "/metrics")
        before = (metric(body, "mailtls_config_last_reload_successful"),
                  metric(body, "mailtls_domains_configured"))
        os.remove(cfg)
        e.proc.send_signal(signal.SIGHUP)
        time.sleep(2)
        _, body = http(e.port, "/metrics")
        after = (metric(body, "mailtls_config_last_reload_successful"),
                 metric(body, "mailtls_domains_configured"))
        probe_status, _ = http(e.port, "/probe?target=a.test", timeout=30)
        print(f"  before (reload_successful, domains_configured) {before}, after SIGHUP {after}; "
              f"alive {e.alive()}; /probe of a configured domain: HTTP {probe_status}")
        assert e.alive()
        assert before == (1, 2), before
        assert after == (0, 2), after
        assert probe_status == 200, probe_status
        assert "reload failed" in e.log_text()
    finally:
        e.stop()


def t_reload_bad_domain_files(binary, tmp, dns):
    """A reload of a config whose domain_files path cannot be stat()ed must fail like any bad
    config: old config kept, reload_successful 0 (R6: the process used to abort)."""
    cfg = os.path.join(tmp, "r6.yaml")
    open(cfg, "w").write(config_text(dns.port, domains=["a.test"], receiver=False))
    e = Exporter(binary, cfg, os.path.join(tmp, "r6-state"))
    try:
        assert e.wait_ready(), e.log_text()[-500:]
        with open(cfg, "a") as f:
            f.write('domain_files: ["%s"]\n' % ("a" * 300))
        e.proc.send_signal(signal.SIGHUP)
        time.sleep(2)
        alive = e.alive()
        print(f"  SIGHUP with a domain_files name of 300 characters: alive {alive}"
              + ("" if alive else f", exit status {e.proc.returncode}"))
        assert alive, "the exporter died on reloading a bad domain_files path (R6)"
        _, body = http(e.port, "/metrics")
        assert metric(body, "mailtls_config_last_reload_successful") == 0
        assert "domain_files" in e.log_text(), "the reload error does not name domain_files"
    finally:
        e.stop()


def t_healthy_during_self_test(binary, tmp, dns):
    # A DNS server that takes every query and never answers (UDP and TCP on one port): the
    # self-test runs into its 5 s timeout, however fast the exporter starts.
    silent_udp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    silent_udp.bind(("127.0.0.1", 0))
    port = silent_udp.getsockname()[1]
    silent_tcp = socket.socket()
    silent_tcp.bind(("127.0.0.1", port))
    silent_tcp.listen(64)
    cfg = os.path.join(tmp, "o3.yaml")
    open(cfg, "w").write(config_text(port, domains=["a.test"], receiver=False)
                         .replace("lookup_timeout: 1s", "lookup_timeout: 10s"))
    e = Exporter(binary, cfg, os.path.join(tmp, "o3-state"))
    try:
        assert e.wait_ready(), e.log_text()[-500:]
        ended_before_healthy = "self-test failed" in e.log_text()
        _, body = http(e.port, "/metrics")
        during = "mailtls_resolver_dnssec_validating" in body
        t0 = time.monotonic()
        while "self-test failed" not in e.log_text() and time.monotonic() - t0 < 30:
            time.sleep(0.2)
        _, body = http(e.port, "/metrics")
        after = metric(body, "mailtls_resolver_dnssec_validating")
        print(f"  /-/healthy answered before the self-test ended: {not ended_before_healthy}; "
              f"validating metric present during it: {during}; after it: {after}")
        assert not ended_before_healthy, "the server listened only after the self-test (O3)"
        assert not during, "a validating verdict before the first self-test ended"
        assert after == 0, after
    finally:
        e.stop()
        silent_udp.close()
        silent_tcp.close()


def t_sigkill_state_write(binary, tmp, dns, rounds=5):
    storage = os.path.join(tmp, "kill-state")
    cfg = os.path.join(tmp, "kill.yaml")
    # Domains too: their probes save the state concurrently with the POSTs.
    open(cfg, "w").write(config_text(dns.port, domains=[f"d{i}.test" for i in range(20)]))
    acked = 0
    history = []
    for rnd in range(rounds):
        e = Exporter(binary, cfg, storage)
        assert e.wait_ready(), e.log_text()[-800:]
        _, body = http(e.port, "/metrics")
        loaded = metric(body, "mailtls_tlsrpt_reports_total") or 0
        corrupt = [f for f in os.listdir(storage) if ".corrupt" in f]
        history.append((acked, loaded, len(corrupt)))
        assert not corrupt, f"round {rnd}: state set aside as corrupt: {corrupt}"
        assert loaded >= acked, f"round {rnd}: {loaded} reports after restart, {acked} acknowledged"
        stop = threading.Event()
        lock = threading.Lock()
        counter = [acked]

        def hammer(worker):
            i = 0
            while not stop.is_set():
                i += 1
                try:
                    s, _ = http(e.port, "/tlsrpt", report_body(f"k{rnd}-{worker}-{i}"),
                                {"Content-Type": "application/tlsrpt+json"}, timeout=3)
                except Exception:  # the connection dies with the process: not acknowledged
                    continue
                if s == 200:
                    with lock:
                        counter[0] += 1
        threads = [threading.Thread(target=hammer, args=(w,)) for w in range(4)]
        for t in threads:
            t.start()
        time.sleep(random.uniform(1.0, 3.0))
        e.proc.send_signal(signal.SIGKILL)
        e.proc.wait()
        stop.set()
        for t in threads:
            t.join()
        e.log.close()
        acked = counter[0]
    e = Exporter(binary, cfg, storage)
    try:
        assert e.wait_ready(), e.log_text()[-800:]
        _, body = http(e.port, "/metrics")
        loaded = metric(body, "mailtls_tlsrpt_reports_total") or 0
        corrupt = [f for f in os.listdir(storage) if ".corrupt" in f]
        history.append((acked, loaded, len(corrupt)))
        print("  (acknowledged, loaded after restart, corrupt files) per round: " + str(history))
        assert not corrupt, corrupt
        assert loaded >= acked, f"{loaded} after restart < {acked} acknowledged"
    finally:
        e.stop()


def t_port_in_use(binary, tmp, dns):
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    s.listen(1)
    port = s.getsockname()[1]
    cfg = os.path.join(tmp, "port.yaml")
    open(cfg, "w").write(config_text(dns.port, receiver=False))
    t0 = time.monotonic()
    p = subprocess.run([binary, "--config.file", cfg, "--web.listen-address", f"127.0.0.1:{port}",
                        "--storage.path", os.path.join(tmp, "port-state")],
                       capture_output=True, text=True, timeout=60)
    s.close()
    out = (p.stdout + p.stderr).strip().splitlines()
    msg = [l for l in out if str(port) in l or "in use" in l.lower()]
    print(f"  exit {p.returncode} after {time.monotonic() - t0:.1f}s: {msg[-1] if msg else out[-1:]}")
    assert p.returncode == 1, p.returncode
    assert msg and "in use" in " ".join(msg).lower(), out[-3:]


def t_slow_clients(binary, tmp, dns, clients=16, seconds=25):
    """Clients that open a connection and send a request header one byte every 2 s (slowloris)
    must not keep /metrics from answering (known bug R4 when they do)."""
    cfg = os.path.join(tmp, "slow.yaml")
    open(cfg, "w").write(config_text(dns.port))
    e = Exporter(binary, cfg, os.path.join(tmp, "slow-state"))
    stop = threading.Event()

    def slow_client():
        try:
            s = socket.create_connection(("127.0.0.1", e.port), timeout=5)
            req = b"GET /metrics HTTP/1.1\r\nHost: x\r\n" + b"X-Slow: " + b"a" * 10000
            for b in req:
                if stop.is_set():
                    break
                s.send(bytes([b]))
                stop.wait(2)
            s.close()
        except OSError:
            pass
    try:
        assert e.wait_ready(), e.log_text()[-500:]
        threads = [threading.Thread(target=slow_client) for _ in range(clients)]
        for t in threads:
            t.start()
        time.sleep(1)
        answered, failed, worst = 0, 0, 0.0
        t0 = time.monotonic()
        while time.monotonic() - t0 < seconds:
            t1 = time.monotonic()
            try:
                status, _ = http(e.port, "/metrics", timeout=5)
                answered += status == 200
            except Exception:
                failed += 1
            worst = max(worst, time.monotonic() - t1)
            time.sleep(1)
        stop.set()
        for t in threads:
            t.join()
        print(f"  {clients} slow clients (1 header byte / 2 s) for {seconds}s: /metrics answered "
              f"{answered}, failed (5 s timeout) {failed}, slowest {worst:.1f}s; alive {e.alive()}")
        assert e.alive()
        assert failed == 0, (f"{clients} slow clients starve the HTTP server's worker pool (R4): "
                             f"{failed} /metrics scrapes failed")
    finally:
        stop.set()
        e.stop()


TESTS = {
    "slow_clients": t_slow_clients,
    "resolver_unreachable": t_resolver_unreachable,
    "state_readonly": t_state_readonly,
    "state_full": t_state_full,
    "config_deleted_sighup": t_config_deleted_sighup,
    "reload_bad_domain_files": t_reload_bad_domain_files,
    "sigkill_state_write": t_sigkill_state_write,
    "port_in_use": t_port_in_use,
    "healthy_during_self_test": t_healthy_during_self_test,
}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--exporter", required=True)
    ap.add_argument("--only", default="")
    args = ap.parse_args()
    binary = os.path.abspath(args.exporter)
    names = [n for n in args.only.split(",") if n] or list(TESTS)
    tmp = tempfile.mkdtemp(prefix="mailtls_faults_")
    # A DNS server for "test" that answers every name NXDOMAIN: fast, deterministic probes.
    dns = hp.DnsServer(hp.Zone("test"))
    results = {}
    try:
        for n in names:
            print(f"[{n}]")
            t0 = time.monotonic()
            try:
                TESTS[n](binary, tmp, dns)
                results[n] = "ok"
            except Skip as s:
                results[n] = f"skipped: {s}"
            except AssertionError as a:
                results[n] = f"FAIL: {a}"
            except Exception as ex:  # a broken fixture is a failure too
                results[n] = f"FAIL: {type(ex).__name__}: {ex}"
            print(f"  -> {results[n]} ({time.monotonic() - t0:.1f}s)")
    finally:
        dns.close()
    failed = [n for n, r in results.items() if r.startswith("FAIL")]
    if failed:
        print("work dir kept:", tmp)
    else:
        shutil.rmtree(tmp, ignore_errors=True)
    if failed:
        return 1
    if all(r.startswith("skipped") for r in results.values()):
        return 77
    return 0


if __name__ == "__main__":
    sys.exit(main())
