#!/usr/bin/env python3
"""`mailtls_exporter check` as a newcomer runs it (issue 22), through the real binary:

  no config file in the working directory, no --config.file: a one-line note on stderr, no
  config error, and a report for the domain (the probe itself may fail: the test runs in a
  private network namespace with only loopback, so the system resolver is unreachable and
  nothing leaves the machine; nonexistent.invalid is answered by libunbound's own local zone)
  --config.file naming a missing file: exit 1, "invalid config: ...: cannot read"
  --help and check --help: exit 0, the commands, --output=text|json and the exit codes
  check --output=xml: exit 2 and a usage line

Usage: check_without_config_test.py --exporter <binary>
Exit 0 passed, 1 failed, 77 skipped (needs root and unshare(1) for the network namespace).
"""
import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile


def run(binary, args, cwd):
    # A new network namespace with only loopback up: the resolver named in /etc/resolv.conf is
    # unreachable from here, so no query leaves the machine.
    argv = ["unshare", "-n", "sh", "-c", 'ip link set lo up && exec "$@"', "sh", binary] + args
    return subprocess.run(argv, cwd=cwd, capture_output=True, text=True, timeout=120)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--exporter", required=True)
    binary = os.path.abspath(ap.parse_args().exporter)
    if os.geteuid() != 0 or not shutil.which("unshare") or not shutil.which("ip"):
        print("skipped: needs root, unshare(1) and ip(8) for a private network namespace")
        return 77
    if subprocess.run(["unshare", "-n", "true"], capture_output=True).returncode != 0:
        print("skipped: unshare -n is not permitted here")
        return 77
    tmp = tempfile.mkdtemp(prefix="mailtls_check_noconfig_")
    failures = []

    def expect(cond, what):
        print(("ok    " if cond else "FAIL  ") + what)
        if not cond:
            failures.append(what)

    try:
        p = run(binary, ["check", "nonexistent.invalid"], tmp)
        print(f"check without a config: exit {p.returncode}\n  stderr: {p.stderr.strip()[:600]}\n"
              f"  stdout: {p.stdout.strip()[:300]}")
        expect("/etc/resolv.conf" in p.stderr and "no --config.file" in p.stderr,
               "the note names /etc/resolv.conf")
        expect("invalid config" not in p.stderr and "cannot read" not in p.stderr,
               "no config error")
        expect("cannot probe" not in p.stderr, "the resolver was set up")
        expect("nonexistent.invalid" in p.stdout, "a report for the domain")
        expect(p.returncode in (0, 1, 2), f"exit code {p.returncode} is a check result")

        p = run(binary, ["check", "--output=json", "nonexistent.invalid"], tmp)
        try:
            doc = json.loads(p.stdout)
        except ValueError:
            doc = None
        expect(isinstance(doc, dict) and "resolver" in doc
               and [d.get("domain") for d in doc.get("domains", [])] == ["nonexistent.invalid"],
               "--output=json prints the resolver's state and the report")

        p = run(binary, ["--config.file=missing.yml", "check", "nonexistent.invalid"], tmp)
        expect(p.returncode == 1 and "invalid config: missing.yml: cannot read" in p.stderr,
               f"a missing --config.file is an error (exit {p.returncode}: {p.stderr.strip()[:200]})")
        expect("/etc/resolv.conf" not in p.stderr, "and no note")

        for args in (["--help"], ["check", "--help"]):
            p = run(binary, args, tmp)
            expect(p.returncode == 0 and "check [--output=text|json] [<domain>...]" in p.stdout
                   and "Exit codes:" in p.stdout, f"{' '.join(args)} lists check and exit codes")

        p = run(binary, ["check", "--output=xml", "nonexistent.invalid"], tmp)
        expect(p.returncode == 2 and "--output must be text or json" in p.stderr,
               f"check --output=xml: exit {p.returncode}")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
