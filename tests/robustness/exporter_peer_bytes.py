#!/usr/bin/env python3
"""The whole exporter over a DNSSEC-signed zone whose MX targets hold bytes that are not UTF-8
and terminal control sequences in their labels (legal in DNS), with TLSA records, and an SMTP
peer whose greeting holds the same (security review, findings 1, 2, 12 and 14).

Knot (started here, on a free loopback port) serves and signs peerbytes.test:

  MX 10  \\255\\254\\027[2J.peerbytes.test           non-UTF-8 bytes, ESC [2J (clear screen)
  MX 20  a\\.b\\010\\027]0\\;x\\007.peerbytes.test   a dot inside a label, newline, ESC ]0;..BEL
  both: A 127.0.5.1 and a TLSA 3 1 1 at _<smtp port>._tcp.<target>
  _smtp._tls / _mta-sts TXT records with the same kind of bytes

An SMTP server on 127.0.5.1 greets with "554 " + ESC sequences, 0xff 0xfe and a euro sign cut
by the 200-byte excerpt. Checked:

  * `check --output=json` exits normally (was: abort, exit 134) and prints valid JSON in which
    both MX hosts are in presentation format and have DANE state "usable" (the escapes went
    back to the resolver as the same wire names: A and TLSA were found) and no CNAME query
    (libunbound's lossy canonname made each host look like an alias);
  * `check` (text) prints no control character but newlines, and valid UTF-8;
  * the exporter serving over the zone for longer than two state-save intervals (5 s each)
    stays alive (was: std::terminate in the saver thread 5 s after every start), writes a
    state.json that parses as JSON with the TLSA history of both hosts, and serves a /metrics
    page `promtool check metrics` accepts (was: invalid UTF-8 in mx= and name= labels);
  * a second exporter on the same --storage.path exits 1 saying it is in use.

The fuzz corpora (tests/fuzz/corpus, issue 17): the zone also holds one subdomain per entry
of the larger TXT corpus, d00.peerbytes.test, d01..., each monitored, with the MX hosts
above, an A record for mta-sts.<d> (the policy host, HTTPS on 127.0.5.1 with a certificate
of a CA made here) and

  _mta-sts.<d>    TXT  the d-th entry of fuzz_sts_txt_record, every byte \DDD-escaped
  _smtp._tls.<d>  TXT  the d-th entry of fuzz_tlsrpt_record

(subdomains past the end of a corpus have no such record). While the exporter serves, the
SMTP peer rotates through fuzz_smtp_reply: connection n gets file n mod N, sent as its
greeting on even passes over the corpus and as the reply to EHLO (after a plain 220) on odd
passes, then reads one line and closes; the policy host answers request n with file n mod M
of fuzz_sts_policy as the policy body. The serve phase lasts until every SMTP file reached
the client in both roles, every policy file went out and every policy host that was asked
(those whose _mta-sts TXT holds something like an STS record) was asked twice (two probe
rounds); at least SERVE_SECONDS, at most SERVE_LIMIT (not getting there is a failure).
Then: the exporter is alive, state.json is strict JSON in strict UTF-8, /metrics is UTF-8
that promtool accepts, and `check --output=json` over some corpus subdomains (the rotation
still on) prints valid JSON. The corpora are small (tens of files of under 100 bytes each):
all of them are used, in file name order; a corpus that grows past MAX_FILES files keeps its
MAX_FILES largest ones.

Exit 0 = all good, 1 = a check failed, 77 = knotd, keymgr, kdig or promtool missing.
"""
import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import hostile_peers as hp  # noqa: E402

ZONE = "peerbytes.test"
SMTP_ADDR = "127.0.5.1"
# The two MX targets in zone-file syntax and as the exporter must print them (lower case).
# Knot's zone parser wants '[' and ']' escaped too; the exporter prints them as they are.
TARGETS = {
    "\\255\\254\\027\\[2J": "\\255\\254\\027[2j." + ZONE,
    "a\\.b\\010\\027\\]0\\;x\\007": "a\\.b\\010\\027]0\\;x\\007." + ZONE,
}
TLSA_HEX = "ab" * 32
SERVE_SECONDS = 13  # > 2 state-save intervals of 5 s
SERVE_LIMIT = 150  # the corpora must have gone out by then (a bound for a loaded machine, not a speed target)
CORPUS_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "fuzz", "corpus")
MAX_FILES = 100  # per corpus target; the largest ones (then by name) when there are more
MAX_SMTP_BYTES = 4096  # the exporter caps a reply line at 512 and a reply at 8 KiB anyway
MAX_POLICY_BYTES = 65536
MAX_TXT_BYTES = 1024  # split into character-strings of 255 bytes
# The policy host answers this (hostile) policy until the corpus rotation starts.
FIXED_POLICY = (b"version: STSv1\nmode: enforce\nmx: \xff\xfe\x1b[2J.peerbytes.test\n"
                b"max_age: 86400\n")


def corpus(target, cap):
    """The files of one fuzz corpus target, bounded and in a fixed order."""
    d = os.path.join(CORPUS_DIR, target)
    files = []
    for name in sorted(os.listdir(d)):
        with open(os.path.join(d, name), "rb") as f:
            data = f.read()
        if data:
            files.append((name, data[:cap]))
    if len(files) > MAX_FILES:
        keep = sorted(files, key=lambda f: (-len(f[1]), f[0]))[:MAX_FILES]
        files = sorted(keep)
    return [data for _, data in files]


SMTP_FILES = corpus("fuzz_smtp_reply", MAX_SMTP_BYTES)
POLICY_FILES = corpus("fuzz_sts_policy", MAX_POLICY_BYTES)
STS_TXT = corpus("fuzz_sts_txt_record", MAX_TXT_BYTES)
TLSRPT_TXT = corpus("fuzz_tlsrpt_record", MAX_TXT_BYTES)
SUBDOMAINS = ["d%02d" % i for i in range(max(len(STS_TXT), len(TLSRPT_TXT)))]
ALL_DOMAINS = [ZONE] + [f"{d}.{ZONE}" for d in SUBDOMAINS]


class Rotation:
    """Hands out 0, 1, 2, ... to the connections once started; counts requests per host."""

    def __init__(self):
        self.lock = threading.Lock()
        self.active = False
        self.n = 0
        self.per_host = {}

    def start(self):
        with self.lock:
            self.active, self.n, self.per_host = True, 0, {}

    def next(self, host=None):
        with self.lock:
            if not self.active:
                return None
            n = self.n
            self.n += 1
            if host is not None:
                self.per_host[host] = self.per_host.get(host, 0) + 1
            return n

    def snapshot(self):
        with self.lock:
            return self.n, dict(self.per_host)


SMTP_ROTATION = Rotation()
SMTP_SENT = set()  # (file index, "greeting" or "ehlo"): what reached the client
POLICY_ROTATION = Rotation()


def greeting():
    """554, ESC sequences, bytes that are not UTF-8, and a euro sign the excerpt cuts."""
    head = b"554 \x1b[2J\x1b]0;pwned\x07\xff\xfe"
    pad = b"x" * (199 - len(head))  # the euro sign starts at byte 199 of the excerpt
    return head + pad + "\u20ac tail".encode() + b"\r\n"


def smtp_hostile_greeting(conn, srv):
    n = SMTP_ROTATION.next()
    if n is None:
        srv.send(conn, greeting())
        time.sleep(0.2)
        return
    i = n % len(SMTP_FILES)
    data = SMTP_FILES[i]
    conn.settimeout(0.5)
    try:
        if (n // len(SMTP_FILES)) % 2 == 0:
            srv.send(conn, data)  # the greeting
            SMTP_SENT.add((i, "greeting"))
        else:
            srv.send(conn, b"220 peerbytes.test ESMTP\r\n")
            if not hp.read_line(conn, 1024).upper().startswith(b"EHLO "):
                return
            srv.send(conn, data)  # its reply
            SMTP_SENT.add((i, "ehlo"))
        hp.read_line(conn, 1024)  # whatever the client says next, then close
    except OSError:
        pass


def https_policy(conn, srv):
    request = hp.read_http_request(conn)
    host = b""
    for line in request.split(b"\r\n")[1:]:
        if line.lower().startswith(b"host:"):
            host = line[5:].strip().split(b":")[0].lower()
    n = POLICY_ROTATION.next(host.decode("ascii", "replace"))
    body = FIXED_POLICY if n is None else POLICY_FILES[n % len(POLICY_FILES)]
    srv.send(conn, b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: %d\r\n"
             b"Connection: close\r\n\r\n" % len(body) + body)


def txt_zone_value(data):
    """TXT RDATA in zone-file syntax: character-strings of up to 255 bytes, every byte \\DDD."""
    chunks = [data[i:i + 255] for i in range(0, len(data), 255)] or [b""]
    return " ".join('"' + "".join("\\%03d" % b for b in c) + '"' for c in chunks)


def zone_text(smtp_port):
    lines = [
        f"$ORIGIN {ZONE}.",
        "$TTL 300",
        f"@ SOA ns.{ZONE}. hostmaster.{ZONE}. 1 3600 600 86400 300",
        "@ NS ns",
        "ns A 127.0.0.1",
        '_smtp._tls TXT "v=TLSRPTv1; rua=mailto:r@\\255\\027[31m\\010x.example"',
        '_mta-sts TXT "v=STSv1; id=\\255\\027[2J\\010"',
        f"mta-sts A {SMTP_ADDR}",
    ]
    for i, d in enumerate(SUBDOMAINS):
        lines += [f"{d} MX {10 * (j + 1)} {o}.{ZONE}." for j, o in enumerate(TARGETS)]
        lines.append(f"mta-sts.{d} A {SMTP_ADDR}")
        if i < len(STS_TXT):
            lines.append(f"_mta-sts.{d} TXT {txt_zone_value(STS_TXT[i])}")
        if i < len(TLSRPT_TXT):
            lines.append(f"_smtp._tls.{d} TXT {txt_zone_value(TLSRPT_TXT[i])}")
    for i, owner in enumerate(TARGETS):
        lines += [
            f"@ MX {10 * (i + 1)} {owner}.{ZONE}.",
            f"{owner} A {SMTP_ADDR}",
            f"_{smtp_port}._tcp.{owner} TLSA 3 1 1 {TLSA_HEX}",  # TLSA names carry the port
        ]
    return "\n".join(lines) + "\n"


def knot_config(d, port):
    user = "    user: root:root\n" if os.geteuid() == 0 else ""
    return f"""server:
    listen: 127.0.0.1@{port}
    rundir: {d}/run
{user}
log:
  - target: {d}/knot.log
    any: info

database:
    storage: {d}/db

keystore:
  - id: default
    backend: pem
    config: {d}/keys

policy:
  - id: p
    algorithm: ecdsap256sha256
    single-type-signing: on

template:
  - id: default
    storage: {d}/zones
    file: %s.zone
    zonefile-sync: -1
    zonefile-load: whole
    journal-content: changes
    dnssec-signing: on
    dnssec-policy: p

zone:
  - domain: {ZONE}
"""


def kdig(port, *args):
    return subprocess.run(["kdig", f"@127.0.0.1", "-p", str(port), "+time=1", "+retry=0",
                           "+norec", *args], capture_output=True, text=True,
                          errors="replace").stdout


def start_knot(tmp, smtp_port):
    d = os.path.join(tmp, "knot")
    for sub in ("run", "db", "keys", "zones"):
        os.makedirs(os.path.join(d, sub))
    with open(os.path.join(d, "zones", ZONE + ".zone"), "w") as f:
        f.write(zone_text(smtp_port))
    port = hp.free_port()
    conf = os.path.join(d, "knot.conf")
    with open(conf, "w") as f:
        f.write(knot_config(d, port))
    proc = subprocess.Popen(["knotd", "-c", conf], stdout=subprocess.DEVNULL,
                            stderr=open(os.path.join(d, "knotd.out"), "w"))
    deadline = time.monotonic() + 40
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit("knotd exited: " + open(os.path.join(d, "knotd.out")).read()[-500:])
        if " RRSIG " in kdig(port, "+dnssec", "DNSKEY", ZONE + ".").replace("\t", " "):
            break
        time.sleep(0.3)
    else:
        proc.terminate()
        proc.wait()
        raise SystemExit("knot did not sign the zone within 40 s: " +
                         open(os.path.join(d, "knot.log")).read()[-800:])
    ds = subprocess.run(["keymgr", "-c", conf, ZONE + ".", "ds"], capture_output=True,
                        text=True).stdout
    anchors = [l for l in ds.splitlines() if len(l.split()) >= 6 and l.split()[4] == "2"]
    if not anchors:
        raise SystemExit("keymgr gave no SHA-256 DS: " + ds)
    return proc, port, anchors[0]


def write_config(path, dns_port, anchor, smtp_port, https_port, ca):
    with open(path, "w") as f:
        f.write(f"""defaults:
  interval: 3s
  timeout: 3s
resolver:
  use_resolv_conf: false
  root_trust_anchor_file: ""
  stub_zones:
    - zone: {ZONE}
      addresses: ["127.0.0.1@{dns_port}"]
  trust_anchors: ["{anchor}"]
  self_test_secure_name: {ZONE}
smtp:
  ehlo_name: probe.mailtls.test
  port: {smtp_port}
  probe_special_addresses: true
tls:
  ca_files: ["{ca}"]
mtasts:
  port: {https_port}
domains:
""" + "".join(f"  - name: {d}\n" for d in ALL_DOMAINS))


def control_bytes(data):
    return sorted({b for b in data if (b < 0x20 and b != 0x0A) or b == 0x7F})


def strict_json(data):
    """JSON in strict UTF-8 with no lone surrogate escaped in it and no NaN or Infinity."""
    def no_constant(c):
        raise ValueError("not JSON: " + c)

    doc = json.loads(data.decode("utf-8"), parse_constant=no_constant)
    stack = [doc]
    while stack:
        v = stack.pop()
        if isinstance(v, dict):
            stack += list(v.keys()) + list(v.values())
        elif isinstance(v, list):
            stack += v
        elif isinstance(v, str):
            v.encode("utf-8")  # raises on a lone surrogate ("\ud800")
    return doc


def check_reports(exporter, config, failures):
    p = subprocess.run([exporter, "--config.file", config, "check", "--output=json", ZONE],
                       capture_output=True, timeout=60)
    print(f"check --output=json: exit {p.returncode}, {len(p.stdout)} bytes")
    if p.returncode not in (0, 1, 2):
        failures.append(f"check --output=json exited {p.returncode}: {p.stderr[-300:]!r}")
    try:
        doc = strict_json(p.stdout)
    except (UnicodeError, ValueError) as e:
        failures.append(f"check --output=json printed no valid JSON ({e}): {p.stdout[:300]!r}")
        return
    if doc.get("resolver", {}).get("validating") is not True:
        failures.append(f"the resolver does not validate the test zone: {doc.get('resolver')!r}")
    r = doc["domains"][0]
    hosts = {m["host"]: m for m in r.get("mx", [])}
    for want in TARGETS.values():
        m = hosts.get(want)
        if m is None:
            failures.append(f"MX host {want!r} not in {sorted(hosts)!r}")
            continue
        print(f"  MX {want}: dane_state {m['dane_state']}")
        if m["dane_state"] != "usable":
            failures.append(f"{want}: dane_state {m['dane_state']!r}, want 'usable' (the TLSA "
                            "record at the escaped name was not found)")
        for a in m.get("addresses", []):
            print(f"    {a['address']}: {a['failure'][:90]}...")
            if "\\x1b[2J" not in a["failure"] or "\\xff\\xfe" not in a["failure"]:
                failures.append(f"{want}: the greeting is not in the failure, escaped: "
                                f"{a['failure']!r}")
    cnames = [rr["name"] for rr in r.get("dnssec", []) if rr["type"] == "CNAME"]
    if cnames:
        failures.append(f"CNAME queries for hosts that are no aliases: {cnames!r}")
    text = subprocess.run([exporter, "--config.file", config, "check", ZONE],
                          capture_output=True, timeout=60)
    bad = control_bytes(text.stdout)
    print(f"check (text): exit {text.returncode}, control bytes {bad}")
    if text.returncode not in (0, 1, 2):
        failures.append(f"check (text) exited {text.returncode}")
    if bad:
        failures.append(f"check (text) printed control bytes {bad}")
    try:
        text.stdout.decode("utf-8")
    except UnicodeDecodeError as e:
        failures.append(f"check (text) printed invalid UTF-8: {e}")


def serve(exporter, config, tmp, failures):
    storage = os.path.join(tmp, "state")
    port = hp.free_port()
    log = open(os.path.join(tmp, "serve.log"), "wb")
    proc = subprocess.Popen([exporter, "--config.file", config, "--web.listen-address",
                             f"127.0.0.1:{port}", "--storage.path", storage],
                            stdout=log, stderr=subprocess.STDOUT)
    start = time.monotonic()
    try:
        while proc.poll() is None:
            elapsed = time.monotonic() - start
            smtp_n, _ = SMTP_ROTATION.snapshot()
            policy_n, hosts = POLICY_ROTATION.snapshot()
            covered = (len(SMTP_SENT) == 2 * len(SMTP_FILES) and policy_n >= len(POLICY_FILES)
                       and hosts and min(hosts.values()) >= 2)
            if elapsed >= SERVE_LIMIT or (covered and elapsed >= SERVE_SECONDS):
                break
            time.sleep(0.5)
        elapsed = time.monotonic() - start
        smtp_n, _ = SMTP_ROTATION.snapshot()
        policy_n, hosts = POLICY_ROTATION.snapshot()
        rounds = min(hosts.values()) if hosts else 0
        print(f"serve: {elapsed:.1f} s; {smtp_n} SMTP connections over {len(SMTP_FILES)} "
              f"fuzz_smtp_reply files ({smtp_n / len(SMTP_FILES):.1f} passes, greeting and EHLO "
              f"reply alternating; {len(SMTP_SENT)} of {2 * len(SMTP_FILES)} file-role pairs "
              f"sent), {policy_n} policy requests over {len(POLICY_FILES)} "
              f"fuzz_sts_policy files from {len(hosts)} of {len(ALL_DOMAINS)} policy hosts, "
              f"each asked at least {rounds} times")
        if proc.poll() is not None:
            failures.append(f"the exporter died after {elapsed:.0f} s: exit {proc.returncode}: "
                            + open(log.name, "rb").read()[-500:].decode("utf-8", "replace"))
            return
        if len(SMTP_SENT) < 2 * len(SMTP_FILES):
            failures.append(f"in {elapsed:.0f} s ({smtp_n} SMTP connections) only "
                            f"{len(SMTP_SENT)} of the {len(SMTP_FILES)} fuzz_smtp_reply files "
                            "went out as greeting and as EHLO reply")
        if policy_n < len(POLICY_FILES):
            failures.append(f"in {elapsed:.0f} s only {policy_n} policy requests, fewer than "
                            f"the {len(POLICY_FILES)} fuzz_sts_policy files")
        if rounds < 2:
            failures.append(f"in {elapsed:.0f} s a policy host was asked only {rounds} times "
                            "(want two probe rounds)")
        if len(hosts) < len(ALL_DOMAINS) // 2:
            failures.append(f"only {len(hosts)} of {len(ALL_DOMAINS)} policy hosts were asked")
        try:
            with open(os.path.join(storage, "state.json"), "rb") as f:
                state = strict_json(f.read())
            keys = sorted(state["sections"].get("tlsa_rrsets", {}))
            print(f"  state.json parses (strict UTF-8); {len(keys)} tlsa_rrsets keys")
            for want in TARGETS.values():
                if f"{ZONE} {want}" not in keys:
                    failures.append(f"no TLSA history for {want!r} in state.json: {keys!r}")
        except (OSError, UnicodeError, ValueError, KeyError) as e:
            failures.append(f"state.json does not parse: {e}")
        metrics = urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=10).read()
        mpath = os.path.join(tmp, "metrics.txt")
        with open(mpath, "wb") as f:
            f.write(metrics)
        pt = subprocess.run(["promtool", "check", "metrics"], stdin=open(mpath, "rb"),
                            capture_output=True, text=True)
        print(f"  /metrics {len(metrics)} bytes, promtool check metrics: exit {pt.returncode}")
        if pt.returncode != 0:
            failures.append("promtool check metrics: " + (pt.stdout + pt.stderr)[-500:])
        try:
            metrics.decode("utf-8")
        except UnicodeDecodeError as e:
            failures.append(f"/metrics is not valid UTF-8: {e}")
        if b"mailtls_mx_info{" not in metrics or b"\\\\255\\\\254\\\\027[2j" not in metrics:
            failures.append("the MX host is not in mx_info in presentation format")
        try:
            second = subprocess.run([exporter, "--config.file", config, "--web.listen-address",
                                     f"127.0.0.1:{hp.free_port()}", "--storage.path", storage],
                                    capture_output=True, text=True, timeout=15)
            said = (second.stdout + second.stderr).strip()
            print(f"  a second exporter on the same storage: exit {second.returncode}: "
                  f"{said[-170:]}")
            if second.returncode != 1 or "in use by another mailtls_exporter" not in said:
                failures.append("a second exporter on the same --storage.path did not refuse: "
                                f"exit {second.returncode}, {said[-300:]!r}")
        except subprocess.TimeoutExpired:
            failures.append("a second exporter on the same --storage.path ran (no lock)")
    finally:
        hp.stop_process(proc)
        log.close()
    if proc.returncode != 0:
        failures.append(f"the exporter exited {proc.returncode} on SIGTERM")
    text = open(log.name, "rb").read()
    if b"terminate called" in text or b"type_error" in text:
        failures.append("the log shows an exception: " + text[-400:].decode("utf-8", "replace"))
    bad = control_bytes(text)
    if bad:
        failures.append(f"the log holds control bytes {bad}")


def check_corpus_domains(exporter, config, tmp, failures, count=6):
    """`check --output=json` over the first corpus subdomains, the rotation still on."""
    names = [f"{d}.{ZONE}" for d in SUBDOMAINS[:count]]
    p = subprocess.run([exporter, "--config.file", config, "check", "--output=json", *names],
                       capture_output=True, timeout=60)
    with open(os.path.join(tmp, "check_corpus.json"), "wb") as f:
        f.write(p.stdout)
    print(f"check --output=json {len(names)} corpus subdomains: exit {p.returncode}, "
          f"{len(p.stdout)} bytes")
    if p.returncode not in (0, 1, 2):
        failures.append(f"check --output=json (corpus subdomains) exited {p.returncode}: "
                        f"{p.stderr[-300:]!r}")
    try:
        doc = strict_json(p.stdout)
        got = sorted(r.get("domain", "?") for r in doc["domains"])
        if got != sorted(names):
            failures.append(f"check --output=json reported {got!r}, want {sorted(names)!r}")
    except (UnicodeError, ValueError, KeyError, TypeError) as e:
        failures.append(f"check --output=json (corpus subdomains) printed no valid JSON ({e}): "
                        f"{p.stdout[:300]!r}")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--exporter", required=True)
    ap.add_argument("--keep", action="store_true", help="keep the temporary directory")
    args = ap.parse_args()
    for tool in ("knotd", "keymgr", "kdig", "promtool"):
        if shutil.which(tool) is None:
            print(f"skipped: {tool} not installed")
            return 77
    tmp = tempfile.mkdtemp(prefix="mailtls_peerbytes_")
    knot = smtp = https = None
    failures = []
    try:
        smtp_port = hp.free_port(SMTP_ADDR)
        knot, dns_port, anchor = start_knot(tmp, smtp_port)
        smtp = hp.StreamServer(SMTP_ADDR, smtp_port, smtp_hostile_greeting)
        ca, cert, key = hp.make_pki(tmp, [f"mta-sts.{d}" for d in ALL_DOMAINS])
        https = hp.StreamServer(SMTP_ADDR, 0, https_policy, tls_context=hp.tls_context(cert, key))
        config = os.path.join(tmp, "exporter.yaml")
        write_config(config, dns_port, anchor, smtp_port, https.port, ca)
        print(f"peer bytes: Knot 127.0.0.1:{dns_port}, SMTP {SMTP_ADDR}:{smtp_port}, HTTPS "
              f"{SMTP_ADDR}:{https.port}, {len(ALL_DOMAINS)} domains, {tmp}")
        print(f"corpora: {len(SMTP_FILES)} fuzz_smtp_reply, {len(POLICY_FILES)} fuzz_sts_policy, "
              f"{len(STS_TXT)} fuzz_sts_txt_record, {len(TLSRPT_TXT)} fuzz_tlsrpt_record")
        check_reports(args.exporter, config, failures)
        SMTP_ROTATION.start()
        POLICY_ROTATION.start()
        serve(args.exporter, config, tmp, failures)
        check_corpus_domains(args.exporter, config, tmp, failures)
    finally:
        if smtp is not None:
            smtp.close()
        if https is not None:
            https.close()
        if knot is not None:
            knot.terminate()
            try:
                knot.wait(timeout=10)
            except subprocess.TimeoutExpired:
                knot.kill()
        if not args.keep and not failures:
            shutil.rmtree(tmp, ignore_errors=True)
    for f in failures:
        print("FAIL:", f)
    print("ok" if not failures else f"{len(failures)} failure(s); files in {tmp}")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
