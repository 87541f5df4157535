#!/usr/bin/env python3
"""Abuse of the TLS-RPT receiver (POST /tlsrpt is open to anyone), against the exporter binary:

  inflate      4 clients at once, 3 rounds, each POSTing a ~48 KB gzip report that inflates to
               ~20 MB of tiny JSON arrays (issue 17, finding 5: it used to become a ~340 MB DOM
               each). Peak RSS (VmHWM) must stay under --max-rss-mb; every answer is 400 or 503.
  cardinality  5 reports of 2,000 policies, each policy for another domain, and 300 reports from
               distinct organizations (finding 4): the mailtls_tlsrpt_* series in /metrics stay
               within the bound set by the configured domains and the organization cap.
  state_writes a state of ~3.5 MB, then 20 refused POSTs (finding 10): the process writes less
               than 3 times the state file in total (the periodic save may run once or twice
               meanwhile; each refused POST used to rewrite and fsync all of it).

Usage: tlsrpt_receiver_abuse.py --exporter <binary> [--only name,...] [--max-rss-mb 150]
Exit 0 all passed, 1 a failure.
"""
import argparse
import gzip
import io
import json
import os
import shutil
import sys
import tempfile
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import hostile_peers as hp  # noqa: E402
from exporter_faults import Exporter, http  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
REPORT = os.path.join(HERE, "..", "data", "tlsrpt", "rfc8460-appendix-b.json")
MONITORED = ["company-y.example", "a.example"]
MAX_ORGANIZATIONS = 20


def config_text(dns_port):
    # Probes of the monitored domains go to a closed port and fail fast; only the receiver matters.
    return f"""defaults:
  interval: 1h
  timeout: 2s
resolver:
  use_resolv_conf: false
  forwarders: ["127.0.0.1@{dns_port}"]
  root_trust_anchor_file: ""
  lookup_timeout: 1s
tlsrpt_receiver:
  enabled: true
  max_organizations: {MAX_ORGANIZATIONS}
domains:
""" + "".join(f"  - name: {d}\n" for d in MONITORED)


def start(binary, tmp, name):
    cfg = os.path.join(tmp, name + ".yaml")
    open(cfg, "w").write(config_text(hp.free_port()))
    storage = os.path.join(tmp, name + "-state")
    e = Exporter(binary, cfg, storage)
    assert e.wait_ready(), "exporter did not start: " + e.log_text()[-500:]
    return e, storage


def tiny_arrays_report(target_bytes=20 * 1024 * 1024 - 4096):
    """A report whose unknown member holds ~20 MB of "[]," (under the 20 MiB inflate cap)."""
    doc = json.load(open(REPORT))
    head = json.dumps(doc)[:-1] + ', "x": ['
    n = (target_bytes - len(head)) // 3
    buf = io.BytesIO()
    with gzip.GzipFile(fileobj=buf, mode="wb", compresslevel=9) as g:
        g.write(head.encode())
        chunk = b"[]," * 100_000
        for _ in range(n // 100_000):
            g.write(chunk)
        g.write(b"[]]}")
    return buf.getvalue()


def post(port, body, content_type="application/tlsrpt+json", timeout=60):
    return http(port, "/tlsrpt", body, {"Content-Type": content_type}, timeout=timeout)


def t_inflate(binary, tmp, max_rss_mb):
    body = tiny_arrays_report()
    e, _ = start(binary, tmp, "inflate")
    try:
        idle = hp.vm_hwm_kb(e.proc.pid) / 1024
        statuses = []
        for _ in range(3):
            threads = [threading.Thread(target=lambda: statuses.append(
                post(e.port, body, "application/tlsrpt+gzip")[0])) for _ in range(4)]
            for t in threads:
                t.start()
            for t in threads:
                t.join()
        hwm = hp.vm_hwm_kb(e.proc.pid) / 1024
        print(f"  body {len(body)} bytes gzip; answers {sorted(statuses)}; VmHWM {idle:.0f} MB at "
              f"start, {hwm:.0f} MB after")
        assert e.alive(), "exporter died"
        assert len(statuses) == 12 and set(statuses) <= {400, 503}, statuses
        assert hwm < max_rss_mb, f"VmHWM {hwm:.0f} MB, over {max_rss_mb} MB"
    finally:
        e.stop()


def series(metrics_text, prefix="mailtls_tlsrpt_"):
    return [line for line in metrics_text.splitlines() if line.startswith(prefix)]


def t_cardinality(binary, tmp, _max_rss_mb):
    e, storage = start(binary, tmp, "cardinality")
    try:
        doc = json.load(open(REPORT))
        policy = doc["policies"][0]
        for r in range(5):
            d = dict(doc, **{"report-id": f"many-domains-{r}", "organization-name": f"Domains {r}"})
            d["policies"] = []
            for i in range(2000):
                p = json.loads(json.dumps(policy))
                p["policy"]["policy-domain"] = f"d{r}-{i}.forged.example"
                d["policies"].append(p)
            status, text = post(e.port, gzip.compress(json.dumps(d).encode()), "application/tlsrpt+gzip")
            assert status == 200, (status, text)
        for i in range(300):
            d = dict(doc, **{"report-id": f"org-{i}", "organization-name": f"Forged Org {i}"})
            status, text = post(e.port, json.dumps(d).encode())
            assert status == 200, (status, text)
        lines = series(http(e.port, "/metrics")[1])
        domains = {l.split('policy_domain="')[1].split('"')[0] for l in lines if 'policy_domain="' in l}
        orgs = {l.split('organization="')[1].split('"')[0] for l in lines if 'organization="' in l}
        state = os.path.getsize(os.path.join(storage, "state.json"))
        print(f"  {len(lines)} mailtls_tlsrpt_* series, {len(domains)} policy domains, "
              f"{len(orgs)} organizations, state.json {state} bytes")
        assert domains <= set(MONITORED) | {"other"}, sorted(domains)[:10]
        assert len(orgs) <= MAX_ORGANIZATIONS + 1, len(orgs)  # + "other"
        # Per (organization, policy domain): 4 policy types x 2 results + 12 result types.
        bound = (MAX_ORGANIZATIONS + 1) * (len(MONITORED) + 1) * 20 + (MAX_ORGANIZATIONS + 1) + 16
        assert len(lines) <= bound, f"{len(lines)} series, bound {bound}"
    finally:
        e.stop()


def t_state_writes(binary, tmp, _max_rss_mb):
    e, storage = start(binary, tmp, "writes")
    try:
        # A state of a few MB: many reports from the monitored reporters.
        doc = json.load(open(REPORT))
        path = os.path.join(storage, "state.json")
        for i in range(40):
            d = dict(doc, **{"report-id": f"fill-{i}"})
            d["policies"] = [json.loads(json.dumps(doc["policies"][0])) for _ in range(5)]
            assert post(e.port, json.dumps(d).encode())[0] == 200
        e.stop()
        # Grow the dedup set directly, so that the file is large without 50,000 POSTs.
        state = json.load(open(path))
        seen = state["sections"].setdefault("tlsrpt_seen", {})
        now = time.time()
        for i in range(40_000):
            seen[f"{i:064x}"] = now
        json.dump(state, open(path, "w"))
        size = os.path.getsize(path)
        e, storage = start(binary, tmp, "writes")
        time.sleep(6)  # let the periodic saver settle
        def wchar():
            return int(dict(l.split(": ") for l in open(f"/proc/{e.proc.pid}/io").read().splitlines())["wchar"])
        before = wchar()
        statuses = [post(e.port, b"garbage")[0] for _ in range(20)]
        written = wchar() - before
        print(f"  state.json {size} bytes; 20 refused POSTs {sorted(set(statuses))}; "
              f"{written} bytes written meanwhile")
        assert set(statuses) == {400}, statuses
        assert written < 3 * size, f"{written} bytes written for a {size}-byte state"
    finally:
        e.stop()


TESTS = {"inflate": t_inflate, "cardinality": t_cardinality, "state_writes": t_state_writes}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--exporter", required=True)
    ap.add_argument("--only", default="")
    ap.add_argument("--max-rss-mb", type=float, default=150)
    args = ap.parse_args()
    binary = os.path.abspath(args.exporter)
    names = [n for n in args.only.split(",") if n] or list(TESTS)
    tmp = tempfile.mkdtemp(prefix="mailtls_tlsrpt_abuse_")
    results = {}
    for n in names:
        print(f"[{n}]")
        t0 = time.monotonic()
        try:
            TESTS[n](binary, tmp, args.max_rss_mb)
            results[n] = "ok"
        except AssertionError as a:
            results[n] = f"FAIL: {a}"
        except Exception as ex:  # a broken fixture is a failure too
            results[n] = f"FAIL: {type(ex).__name__}: {ex}"
        print(f"  -> {results[n]} ({time.monotonic() - t0:.1f}s)")
    failed = [n for n, r in results.items() if r.startswith("FAIL")]
    if failed:
        print("work dir kept:", tmp)
        return 1
    shutil.rmtree(tmp, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
