#!/usr/bin/env python3
"""`--config.check` validates --web.config.file too (review finding 9): a systemd ExecStartPre
check that passes must not be followed by a start that fails on the web config.

Usage: config_check_web.py --exporter <binary>. Exit 0 = ok, 1 = a failure.
"""
import argparse
import os
import shutil
import subprocess
import sys
import tempfile

CONFIG = 'resolver:\n  use_resolv_conf: false\n  root_trust_anchor_file: ""\n  forwarders: ["127.0.0.1@9"]\ndomains: [example.com]\n'
GOOD_WEB = "basic_auth_users:\n  prometheus: $2b$10$PFaQ8hTTHFyxZcLXiCYPwuOdjYqmy39m/8eGTz0hi8EbFgCdWtk9W\n"
BROKEN_WEBS = {
    "not a bcrypt hash": "basic_auth_users:\n  prometheus: hunter2\n",
    "missing certificate": "tls_server_config:\n  cert_file: missing.crt\n  key_file: missing.key\n",
    "unknown key": "tls_config: {}\n",
}


def check(binary, tmp, web_text):
    cfg = os.path.join(tmp, "config.yml")
    web = os.path.join(tmp, "web.yml")
    open(cfg, "w").write(CONFIG)
    args = [binary, "--config.file", cfg, "--config.check"]
    if web_text is not None:
        open(web, "w").write(web_text)
        args += ["--web.config.file", web]
    p = subprocess.run(args, capture_output=True, text=True, timeout=30)
    return p.returncode, (p.stdout + p.stderr).strip()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--exporter", required=True)
    binary = os.path.abspath(ap.parse_args().exporter)
    tmp = tempfile.mkdtemp(prefix="mailtls_config_check_")
    failures = []
    try:
        for label, text in [("no web config", None), ("good web config", GOOD_WEB)]:
            code, out = check(binary, tmp, text)
            print(f"{label}: exit {code}: {out}")
            if code != 0:
                failures.append(f"{label}: exit {code}")
        for label, text in BROKEN_WEBS.items():
            code, out = check(binary, tmp, text)
            print(f"broken web config ({label}): exit {code}: {out}")
            if code != 1 or "invalid web config" not in out:
                failures.append(f"broken web config ({label}) passed --config.check: exit {code}")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    if failures:
        print("FAIL:", "; ".join(failures))
        return 1
    print("ok")
    return 0


if __name__ == "__main__":
    sys.exit(main())
