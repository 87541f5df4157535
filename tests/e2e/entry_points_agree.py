#!/usr/bin/env python3
"""The three ways a user reads a verdict agree on every world domain: /metrics (the server's
scheduled probes, with the history in its state file), /probe?target= (a fresh probe judged
with the same history) and `check --output=json --storage.path=<the server's>` (the same,
read-only). Compared: probe_success, the DANE and MTA-STS verdicts, the TLSA RRset first-seen
time per MX (what F1 is judged by) and F6 (policy changed without an id change); also after
`world.sh mutate rotate-key` (F1 on dane-good.test) and `mutate sts-content` (F6 on
sts-changed.test), once the server has probed the mutated world.

Needs the world running (ctest's world fixture starts it). Exit 77 without a world.
usage: entry_points_agree.py --exporter BIN
"""
import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.abspath(os.path.join(HERE, "..", ".."))
sys.path.insert(0, os.path.join(REPO, "tests", "robustness"))
import hostile_peers as hp  # noqa: E402

WORLD = os.environ.get("MAILTLS_WORLD_DIR", os.path.join(REPO, ".world"))
SAMPLE = re.compile(r'^(mailtls_[a-z_]+)\{([^}]*)\} (\S+)$')
LABEL = re.compile(r'([a-z_]+)="((?:[^"\\]|\\.)*)"')

failures = []


def expect(ok, what):
    if not ok:
        failures.append(what)
        print(f"FAIL: {what}")


def get(url, timeout=120):
    with urllib.request.urlopen(url, timeout=timeout) as r:
        return r.read().decode("utf-8")


def world(*args):
    subprocess.run([os.path.join(REPO, "tests", "world", "world.sh"), *args], check=True,
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, timeout=120)


def verdicts_from_metrics(text):
    """{domain: verdict dict} from a metrics page."""
    out = {}
    for line in text.splitlines():
        m = SAMPLE.match(line)
        if not m:
            continue
        name, labels, value = m.group(1), dict(LABEL.findall(m.group(2))), float(m.group(3))
        d = out.setdefault(labels.get("domain", ""), {"first_seen": {}})
        if name == "mailtls_probe_success":
            d["probe_success"] = value == 1
        elif name == "mailtls_dane_status" and value == 1:
            d["dane_status"] = labels["status"]
        elif name == "mailtls_mtasts_status" and value == 1:
            d["mtasts_status"] = labels["status"]
        elif name == "mailtls_mtasts_policy_changed_without_id_change":
            d["f6"] = value == 1
        elif name == "mailtls_dane_tlsa_rrset_first_seen_timestamp_seconds":
            d["first_seen"][labels["mx"]] = round(value)
    return out


def verdict_from_json(d):
    return {
        "probe_success": d["probe_success"],
        "dane_status": d["dane_status"],
        "mtasts_status": d["mtasts_status"],
        "f6": bool(d["mtasts"].get("changed_without_id_change")),
        "f1": any(m.get("renewed_without_tlsa_update") for m in d.get("mx", [])),
        "first_seen": {m["host"]: round(m["tlsa_rrset_first_seen"])
                       for m in d.get("mx", []) if "tlsa_rrset_first_seen" in m},
    }


def comparable(v):
    # A state set all zero (e.g. not checked) leaves the key out of a metrics verdict; the F6
    # gauge is there only for a domain with an MTA-STS record (absent: not raised).
    out = {k: v.get(k) for k in ("probe_success", "dane_status", "mtasts_status", "first_seen")}
    out["f6"] = bool(v.get("f6"))
    return out


class Server:
    def __init__(self, exporter, work, config):
        self.port = hp.free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.storage = os.path.join(work, "state")
        self.log = open(os.path.join(work, "exporter.log"), "wb")
        self.proc = subprocess.Popen(
            [exporter, "--config.file", config, "--web.listen-address", f"127.0.0.1:{self.port}",
             "--storage.path", self.storage, "--log.level", "warn"],
            stdout=self.log, stderr=subprocess.STDOUT)

    def metrics(self):
        return get(self.url + "/metrics")

    def stop(self):
        hp.stop_process(self.proc)
        self.log.close()


def wait_probed(server, domains, after=0.0, timeout=150):
    """Until every domain's last scheduled probe finished after `after` (Unix time)."""
    deadline = time.time() + timeout
    while time.time() < deadline:
        if server.proc.poll() is not None:
            raise SystemExit(f"the exporter exited with {server.proc.returncode}")
        try:
            page = server.metrics()
        except OSError:  # not listening yet
            time.sleep(0.5)
            continue
        stamps = {}
        for line in page.splitlines():
            m = SAMPLE.match(line)
            if m and m.group(1) == "mailtls_probe_timestamp_seconds":
                stamps[dict(LABEL.findall(m.group(2)))["domain"]] = float(m.group(3))
        if all(stamps.get(d, 0) > after for d in domains):
            return
        time.sleep(1)
    raise SystemExit(f"not every domain of {domains} was probed after {after} within {timeout} s")


def wait_saved(server, since, timeout=30):
    """Until the server has written its state file after `since` (Unix time): it saves every
    5 s when the state changed, and `check` reads the history (first-seen times) from that
    file; compared before the save, `check` sees none yet."""
    path = os.path.join(server.storage, "state.json")
    deadline = time.time() + timeout
    while time.time() < deadline:
        if os.path.exists(path) and os.path.getmtime(path) > since:
            return
        time.sleep(0.5)
    raise SystemExit(f"the server did not save {path} within {timeout} s")


def compare(exporter, server, config, domains, what):
    scraped = verdicts_from_metrics(server.metrics())
    compared = []
    p = subprocess.run([exporter, "--config.file", config, "--storage.path", server.storage,
                        "check", "--output=json", *domains],
                       capture_output=True, text=True, timeout=600)
    expect(p.returncode in (0, 1), f"{what}: check exited {p.returncode}: {p.stderr[-300:]}")
    checked = {d["domain"]: verdict_from_json(d) for d in json.loads(p.stdout)["domains"]}
    for domain in domains:
        probed = verdicts_from_metrics(get(f"{server.url}/probe?target={domain}")).get(domain, {})
        views = {"/metrics": comparable(scraped.get(domain, {})), "/probe": comparable(probed),
                 "check": comparable(checked.get(domain, {}))}
        if not views["/metrics"]["probe_success"]:
            continue  # the server kept its last complete results; nothing to compare
        same = views["/metrics"] == views["/probe"] == views["check"]
        compared.append(domain)
        expect(same, f"{what}: {domain} reads differently: {json.dumps(views, sort_keys=True)}")
    print(f"{what}: compared {len(compared)} of {len(domains)} domains")
    expect(compared, f"{what}: no domain to compare")
    return scraped, checked


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--exporter", required=True)
    args = ap.parse_args()
    world_config = os.path.join(WORLD, "exporter.yaml")
    if not os.path.exists(world_config):
        print(f"no world in {WORLD}: skipped")
        return 77
    work = tempfile.mkdtemp(prefix="mailtls_agree_")
    config = os.path.join(work, "exporter.yaml")
    text = open(world_config, encoding="utf-8").read()
    # Probes every 20 s, so the server sees a mutation soon.
    text = re.sub(r"(?m)^  interval: .*$", "  interval: 20s", text, count=1)
    with open(config, "w", encoding="utf-8") as f:
        f.write(text)
    domains = re.findall(r"(?m)^  - name: (\S+)$", text)
    server = Server(args.exporter, work, config)
    try:
        wait_probed(server, domains)
        wait_saved(server, time.time())
        compare(args.exporter, server, config, domains, "world as started")

        for mutation, domain, check in (
                ("rotate-key", "dane-good.test",
                 lambda s, c: c[domain]["dane_status"] == "broken" and c[domain]["f1"]),
                ("sts-content", "sts-changed.test",
                 lambda s, c: s[domain].get("f6") is True and c[domain]["f6"] is True)):
            time.sleep(2.1)  # a renewed certificate's notBefore (1 s resolution) is later
            world("mutate", mutation)
            mutated = time.time()
            try:
                # A probe that was running during the mutation may have seen the world before it.
                wait_probed(server, [domain], after=mutated + 5)
                scraped, checked = compare(args.exporter, server, config, [domain],
                                           f"after mutate {mutation}")
                expect(domain in checked and check(scraped, checked),
                       f"after mutate {mutation}: the scenario did not show: "
                       f"{scraped.get(domain)} / {checked.get(domain)}")
            finally:
                world("restore", mutation)
    finally:
        server.stop()
        if failures:
            print(open(os.path.join(work, "exporter.log"), encoding="utf-8", errors="replace").read()[-3000:])
        shutil.rmtree(work, ignore_errors=True)
    print(f"{'FAILED' if failures else 'ok'}: {len(failures)} disagreements")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
