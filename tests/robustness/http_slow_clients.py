#!/usr/bin/env python3
"""Slow and header-flooding HTTP clients against a running exporter (review findings 6 and 7).

Per mode (plain HTTP; TLS with basic auth), for --seconds:
  * --slow clients (default 1,000) each hold a connection and send one more request-header
    byte every --slow-interval seconds (slowloris); a client the server cuts off reconnects;
  * --flooders clients (default 4) send endless small header lines as fast as they can, and
    reconnect when the server closes on them;
  * every 0.25 s, GET /metrics and GET /-/healthy on fresh connections must answer 200 within
    1 s (TLS handshake and basic auth included), and the exporter's peak RSS (VmHWM) must stay
    under --max-rss-mb.
Prints what it measured. Exit 0 = both modes passed, 1 = a failure. Stops by itself (about
2 x --seconds plus setup).

Usage: http_slow_clients.py --exporter <binary> [--seconds 20] [--slow 1000] [--max-rss-mb 300]
"""
import argparse
import http.client
import os
import resource
import shutil
import socket
import ssl
import subprocess
import sys
import tempfile
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import hostile_peers as hp  # noqa: E402

# bcrypt of "secret" (cost 10); the client sends prometheus:secret.
SECRET_HASH = "$2b$10$PFaQ8hTTHFyxZcLXiCYPwuOdjYqmy39m/8eGTz0hi8EbFgCdWtk9W"
AUTH = "Basic cHJvbWV0aGV1czpzZWNyZXQ="


def make_pki(tmp):
    cmd = (
        "openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 "
        "-subj /CN=test-ca -keyout ca.key -out ca.crt && "
        "openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj /CN=localhost "
        "-keyout server.key -out server.csr && "
        "printf 'subjectAltName=DNS:localhost,IP:127.0.0.1\\n' > san.ext && "
        "openssl x509 -req -in server.csr -CA ca.crt -CAkey ca.key -CAcreateserial -days 2 "
        "-extfile san.ext -out server.crt")
    subprocess.run(cmd, shell=True, cwd=tmp, check=True, capture_output=True)
    return os.path.join(tmp, "ca.crt")


def rss_kb(pid, field):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    return 0


class Mode:
    """How clients reach the exporter: plain, or TLS with basic auth."""

    def __init__(self, name, port, ca=None):
        self.name, self.port = name, port
        self.ctx = None
        if ca:
            self.ctx = ssl.create_default_context(cafile=ca)
            self.ctx.check_hostname = False

    def connect(self, timeout):
        s = socket.create_connection(("127.0.0.1", self.port), timeout=timeout)
        if self.ctx:
            s = self.ctx.wrap_socket(s, server_hostname="localhost")
        return s

    def get(self, path, timeout):
        if self.ctx:
            c = http.client.HTTPSConnection("127.0.0.1", self.port, timeout=timeout, context=self.ctx)
        else:
            c = http.client.HTTPConnection("127.0.0.1", self.port, timeout=timeout)
        try:
            c.request("GET", path, headers={"Authorization": AUTH} if self.ctx else {})
            r = c.getresponse()
            r.read()
            return r.status
        finally:
            c.close()


class SlowClients(threading.Thread):
    """`n` connections sending one header byte each every `interval` seconds."""

    def __init__(self, mode, n, interval, stop):
        super().__init__(daemon=True)
        self.mode, self.n, self.interval, self.stop = mode, n, interval, stop
        self.socks = []
        self.connected = 0
        self.reconnects = 0
        self.connect_failures = 0

    def open_one(self):
        try:
            s = self.mode.connect(timeout=5)
            s.settimeout(1)
            s.sendall(b"GET /metrics HTTP/1.1\r\nHost: x\r\nX-Slow: ")
            self.connected += 1
            return s
        except OSError:
            self.connect_failures += 1
            return None

    def run(self):
        self.socks = [self.open_one() for _ in range(self.n) if not self.stop.is_set()]
        while not self.stop.wait(self.interval):
            for i, s in enumerate(self.socks):
                if self.stop.is_set():
                    break
                try:
                    if s is None:
                        raise OSError("not connected")
                    s.send(b"a")
                except OSError:
                    if s is not None:
                        s.close()
                    self.reconnects += 1
                    self.socks[i] = self.open_one()
        for s in self.socks:
            if s is not None:
                s.close()


class HeaderFlooder(threading.Thread):
    """Endless small header lines, as fast as the server takes them; reconnects when cut off."""

    def __init__(self, mode, stop):
        super().__init__(daemon=True)
        self.mode, self.stop = mode, stop
        self.bytes_sent = 0
        self.connections = 0

    def run(self):
        block = b"".join(b"X-Flood-%d: a\r\n" % i for i in range(200))
        while not self.stop.is_set():
            try:
                s = self.mode.connect(timeout=5)
                self.connections += 1
                s.sendall(b"GET /metrics HTTP/1.1\r\nHost: x\r\n")
                while not self.stop.is_set():
                    s.sendall(block)
                    self.bytes_sent += len(block)
            except OSError:
                pass
            finally:
                try:
                    s.close()
                except Exception:
                    pass
            self.stop.wait(0.01)


def run_mode(mode, pid, args):
    stop = threading.Event()
    slow = SlowClients(mode, args.slow, args.slow_interval, stop)
    flooders = [HeaderFlooder(mode, stop) for _ in range(args.flooders)]
    slow.start()
    # The slow clients first: the check starts once they hold their connections.
    t0 = time.monotonic()
    while slow.connected + slow.connect_failures < args.slow and time.monotonic() - t0 < 30:
        time.sleep(0.1)
    for f in flooders:
        f.start()
    time.sleep(1)
    answered, failures, worst, peak_rss = 0, [], 0.0, 0
    t0 = time.monotonic()
    while time.monotonic() - t0 < args.seconds:
        for path in ("/metrics", "/-/healthy"):
            t1 = time.monotonic()
            try:
                status = mode.get(path, timeout=1.0)
                took = time.monotonic() - t1
                worst = max(worst, took)
                if status != 200 or took > 1.0:
                    failures.append(f"{path}: {status} after {took:.2f}s")
                else:
                    answered += 1
            except Exception as e:  # timeout, reset, TLS failure: all failures here
                worst = max(worst, time.monotonic() - t1)
                failures.append(f"{path}: {type(e).__name__}: {e}")
        try:
            peak_rss = max(peak_rss, rss_kb(pid, "VmRSS"))
        except OSError:
            failures.append("the exporter died")
            break
        time.sleep(0.25)
    threads = rss_kb(pid, "Threads") if os.path.exists(f"/proc/{pid}") else 0
    hwm = rss_kb(pid, "VmHWM") if os.path.exists(f"/proc/{pid}") else 0
    stop.set()
    slow.join(timeout=30)
    for f in flooders:
        f.join(timeout=10)
    flood_mb = sum(f.bytes_sent for f in flooders) / 1e6
    print(f"[{mode.name}] {args.slow} slow clients (1 byte / {args.slow_interval}s; connected "
          f"{slow.connected}, cut off and reconnected {slow.reconnects}, connect failures "
          f"{slow.connect_failures}), {args.flooders} header flooders ({flood_mb:.0f} MB sent on "
          f"{sum(f.connections for f in flooders)} connections) for {args.seconds}s:")
    print(f"  /metrics + /-/healthy answered {answered}, failed {len(failures)}, slowest "
          f"{worst:.3f}s; VmRSS max {peak_rss // 1024} MB, VmHWM {hwm // 1024} MB; threads {threads}")
    for f in failures[:5]:
        print("  failure:", f)
    problems = []
    if failures:
        problems.append(f"{len(failures)} scrapes failed or took over 1 s")
    if hwm > args.max_rss_mb * 1024:
        problems.append(f"VmHWM {hwm // 1024} MB over {args.max_rss_mb} MB")
    return problems


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--exporter", required=True)
    ap.add_argument("--seconds", type=float, default=20)
    ap.add_argument("--slow", type=int, default=1000)
    ap.add_argument("--slow-interval", type=float, default=2)
    ap.add_argument("--flooders", type=int, default=4)
    ap.add_argument("--max-rss-mb", type=int, default=300)
    ap.add_argument("--modes", default="plain,tls")
    args = ap.parse_args()
    # 1,000 client sockets here (the exporter raises its own limit at start).
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < hard:
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    if hard < args.slow + 200:
        print(f"RLIMIT_NOFILE hard limit {hard} is below {args.slow + 200}: skipped")
        return 77
    tmp = tempfile.mkdtemp(prefix="mailtls_slow_clients_")
    ca = make_pki(tmp)
    cfg = os.path.join(tmp, "exporter.yaml")
    with open(cfg, "w") as f:
        f.write('resolver:\n  use_resolv_conf: false\n  root_trust_anchor_file: ""\n'
                '  forwarders: ["127.0.0.1@9"]\n  lookup_timeout: 1s\ndomains: []\n')
    web = os.path.join(tmp, "web.yml")
    with open(web, "w") as f:
        f.write(f"tls_server_config:\n  cert_file: server.crt\n  key_file: server.key\n"
                f"basic_auth_users:\n  prometheus: {SECRET_HASH}\n")
    problems = []
    for name in [m for m in args.modes.split(",") if m]:
        port = hp.free_port()
        argv = [os.path.abspath(args.exporter), "--config.file", cfg, "--web.listen-address",
                f"127.0.0.1:{port}", "--storage.path", os.path.join(tmp, "state-" + name),
                "--log.level", "warn"]
        if name == "tls":
            argv += ["--web.config.file", web]
        mode = Mode(name, port, ca if name == "tls" else None)
        log = open(os.path.join(tmp, f"exporter-{name}.log"), "w")
        proc = subprocess.Popen(argv, stdout=log, stderr=subprocess.STDOUT)
        try:
            for _ in range(100):
                try:
                    if mode.get("/-/healthy", timeout=1) == 200:
                        break
                except OSError:
                    time.sleep(0.1)
            problems += [f"{name}: {p}" for p in run_mode(mode, proc.pid, args)]
            if proc.poll() is not None:
                problems.append(f"{name}: the exporter exited with {proc.returncode}")
        finally:
            hp.stop_process(proc)
            log.close()
    if problems:
        print("FAIL:", "; ".join(problems))
        print("work dir kept:", tmp)
        return 1
    shutil.rmtree(tmp, ignore_errors=True)
    print("ok")
    return 0


if __name__ == "__main__":
    sys.exit(main())
