#!/usr/bin/env python3
"""Concurrent reloads of a running exporter (issue 17, finding 3).

Every reload builds a new libunbound context, and libunbound's config parser and log setup are
process-wide and unlocked: two `POST /-/reload` at once crashed the exporter (SIGSEGV, or flex's
"fatal scanner internal error" and exit 2) or left every later reload failing. Now reloads run
one at a time and every libunbound context is set up under one process-wide mutex.

  storm          32 clients POST /-/reload 5 times each, all at once, with SIGHUPs in between:
                 the exporter stays up and every POST is answered 200
  failing        a config libunbound refuses (a malformed trust anchor) reloaded by 16 clients
                 at once: every POST answered 500, the running config kept, the process up
  recovers       then a valid config with three domains: a reload answers 200,
                 mailtls_config_last_reload_successful 1, mailtls_domains_configured 3, and
                 /probe still answers

Usage: exporter_reload_race.py --exporter <binary>
Exit 0 passed, 1 failed.
"""
import argparse
import os
import shutil
import signal
import sys
import tempfile
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import exporter_faults as ef  # noqa: E402
import hostile_peers as hp  # noqa: E402


def reload_all_at_once(port, clients, rounds, during=None):
    """`clients` threads each POST /-/reload `rounds` times, released together. Returns the
    list of (status, body) answers; a connection error counts as status 0."""
    answers, lock = [], threading.Lock()
    start = threading.Barrier(clients + 1)

    def client():
        start.wait()
        for _ in range(rounds):
            try:
                status, body = ef.http(port, "/-/reload", data=b"", timeout=120)
            except OSError as e:
                status, body = 0, str(e)
            with lock:
                answers.append((status, body))

    threads = [threading.Thread(target=client) for _ in range(clients)]
    for t in threads:
        t.start()
    start.wait()
    if during:
        during()
    for t in threads:
        t.join()
    return answers


def summary(answers):
    counts = {}
    for status, _ in answers:
        counts[status] = counts.get(status, 0) + 1
    return counts


def run(binary, tmp, dns):
    cfg = os.path.join(tmp, "race.yaml")
    # A stub zone per domain makes every context's config-file parse a little longer.
    good = ef.config_text(dns.port, domains=["a.test", "b.test"], receiver=False)
    open(cfg, "w").write(good)
    e = ef.Exporter(binary, cfg, os.path.join(tmp, "race-state"))
    try:
        assert e.wait_ready(), e.log_text()[-500:]

        print("[storm]")
        t0 = time.monotonic()

        def sighups():
            for _ in range(10):
                if e.alive():
                    e.proc.send_signal(signal.SIGHUP)
                time.sleep(0.05)

        answers = reload_all_at_once(e.port, clients=32, rounds=5, during=sighups)
        print(f"  160 concurrent POST /-/reload + 10 SIGHUP in {time.monotonic() - t0:.1f}s: "
              f"answers {summary(answers)}; alive {e.alive()}"
              + ("" if e.alive() else f", exit status {e.proc.returncode}"))
        assert e.alive(), "the exporter died under concurrent reloads: " + e.log_text()[-800:]
        bad = [a for a in answers if a[0] != 200]
        assert not bad, f"{len(bad)} reloads not answered 200, first {bad[0]}"

        print("[failing]")
        open(cfg, "w").write(good.replace(
            'root_trust_anchor_file: ""',
            'root_trust_anchor_file: ""\n  trust_anchors: ["test. DS this is not a DS record"]'))
        answers = reload_all_at_once(e.port, clients=16, rounds=1)
        _, body = ef.http(e.port, "/metrics")
        ok = ef.metric(body, "mailtls_config_last_reload_successful")
        print(f"  16 concurrent reloads of a config libunbound refuses: answers {summary(answers)}, "
              f"reload_successful {ok}, alive {e.alive()}")
        assert e.alive(), "the exporter died: " + e.log_text()[-800:]
        assert all(s == 500 and "trust anchor" in b for s, b in answers), answers[:2]
        assert ok == 0, ok

        print("[recovers]")
        open(cfg, "w").write(ef.config_text(dns.port, domains=["a.test", "b.test", "c.test"],
                                            receiver=False))
        status, text = ef.http(e.port, "/-/reload", data=b"", timeout=60)
        _, body = ef.http(e.port, "/metrics")
        after = (ef.metric(body, "mailtls_config_last_reload_successful"),
                 ef.metric(body, "mailtls_domains_configured"))
        probe_status, _ = ef.http(e.port, "/probe?target=c.test", timeout=30)
        print(f"  valid config reloaded: HTTP {status} {text.strip()!r}; (reload_successful, "
              f"domains_configured) {after}; /probe of the new domain: HTTP {probe_status}")
        assert status == 200, (status, text)
        assert after == (1, 3), after
        assert probe_status == 200, probe_status
        assert e.alive()
    finally:
        e.stop()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--exporter", required=True)
    args = ap.parse_args()
    tmp = tempfile.mkdtemp(prefix="mailtls_reload_race_")
    dns = hp.DnsServer(hp.Zone("test"))
    try:
        run(os.path.abspath(args.exporter), tmp, dns)
    except AssertionError as a:
        print(f"FAIL: {a}\nwork dir kept: {tmp}")
        return 1
    finally:
        dns.close()
    shutil.rmtree(tmp, ignore_errors=True)
    print("ok")
    return 0


if __name__ == "__main__":
    sys.exit(main())
