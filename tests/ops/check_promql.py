#!/usr/bin/env python3
"""Checks every PromQL expression of the dashboards and the alert rules.

1. Syntax: each expression (dashboard variables substituted) goes into a temporary rule
   file as a recording rule and `promtool check rules` must accept it.
2. Names: every metric name an expression uses must be in the metrics contract
   (DESIGN.md §5, names prefixed `mailtls_`) or in the short list of other series the
   exporter or Prometheus provide (EXTRA_METRICS). Histogram series (_bucket, _sum,
   _count) count as their histogram.
Prints the offenders and exits 1. Python 3 standard library only.

usage: check_promql.py [--root DIR] [--design DESIGN.md] [--promtool PATH] [files...]
Without files: dashboards/*.json and alerts/*.yml under the root.
"""
import argparse
import glob
import json
import os
import re
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
DEFAULT_ROOT = os.path.abspath(os.path.join(HERE, "..", ".."))
SNAPSHOT = os.path.join(HERE, "metrics_contract.txt")

# Series that exist but are not in DESIGN.md §5's table.
EXTRA_METRICS = {
    "mailtls_build_info", "mailtls_config_last_reload_successful", "mailtls_domains_configured",
    "mailtls_probes_in_flight", "mailtls_scheduler_lag_seconds", "mailtls_resolver_dnssec_validating",
    "mailtls_probe_no_verdict",
    "up",
}
EXTRA_HISTOGRAMS = {"mailtls_starttls_handshake_seconds"}
EXTRA_PREFIXES = ("process_",)  # the standard process collector

KEYWORDS = {
    "and", "or", "unless", "by", "without", "on", "ignoring", "group_left", "group_right",
    "offset", "bool", "inf", "nan", "atan2", "start", "end",
}


# --------------------------------------------------------------------- the contract
def contract_from_design(path):
    """Metric names (with prefix) and which are histograms, from the §5 table."""
    names, histograms = set(), set()
    in_section = False
    with open(path, encoding="utf-8") as f:
        for line in f:
            if line.startswith("## "):
                in_section = line.startswith("## 5.")
                continue
            m = re.match(r"\|\s*`([a-z_:][a-z0-9_:]*)`\s*\|([^|]*)\|([^|]*)\|", line)
            if in_section and m:
                name = "mailtls_" + m.group(1)
                names.add(name)
                if "histogram" in m.group(3).lower():
                    histograms.add(name)
    if not names:
        raise SystemExit(f"{path}: no metric table found in section 5")
    return names, histograms


def contract_from_snapshot(path):
    names, histograms = set(), set()
    with open(path, encoding="utf-8") as f:
        for line in f:
            line = line.split("#", 1)[0].strip()
            if not line:
                continue
            parts = line.split()
            names.add(parts[0])
            if "histogram" in parts[1:]:
                histograms.add(parts[0])
    return names, histograms


# ---------------------------------------------------------------- extract expressions
def exprs_from_rules(path):
    """(where, expr) of every `expr:` of a rule file. Knows the plain and `|`/`>` block
    forms used in Prometheus rule files; anything else is reported, not guessed."""
    out = []
    lines = open(path, encoding="utf-8").read().split("\n")
    i = 0
    rule_name = "?"
    while i < len(lines):
        line = lines[i]
        m = re.match(r"^\s*-?\s*(alert|record):\s*(\S.*)$", line)
        if m:
            rule_name = m.group(2).strip().strip("'\"")
        m = re.match(r"^(\s*)-?\s*expr:\s*(.*)$", line)
        if m:
            indent = len(m.group(1))
            value = m.group(2).strip()
            where = f"{os.path.basename(path)}:{i + 1} ({rule_name})"
            if value in ("|", "|-", "|+", ">", ">-", ">+"):
                block = []
                i += 1
                while i < len(lines) and (not lines[i].strip() or len(lines[i]) - len(lines[i].lstrip()) > indent):
                    block.append(lines[i].strip())
                    i += 1
                out.append((where, " ".join(b for b in block if b)))
                continue
            if value.startswith(("'", '"')):
                q = value[0]
                if not value.endswith(q) or len(value) < 2:
                    out.append((where, None))
                else:
                    inner = value[1:-1]
                    out.append((where, inner.replace("''", "'") if q == "'" else json.loads(value)))
            else:
                out.append((where, value.split(" #", 1)[0].strip()))
        i += 1
    return out


def exprs_from_dashboard(path):
    out = []
    with open(path, encoding="utf-8") as f:
        d = json.load(f)

    def walk_panels(panels):
        for p in panels:
            for t in p.get("targets", []):
                if t.get("expr"):
                    out.append((f"{os.path.basename(path)} panel {p.get('title')!r} ref {t.get('refId')}", t["expr"]))
            walk_panels(p.get("panels", []))

    walk_panels(d.get("panels", []))
    for v in d.get("templating", {}).get("list", []):
        if v.get("type") != "query":
            continue
        q = v.get("query")
        q = q.get("query") if isinstance(q, dict) else q
        where = f"{os.path.basename(path)} variable {v.get('name')!r}"
        m = re.match(r"^\s*label_values\((.*),\s*[a-zA-Z_]\w*\s*\)\s*$", q or "")
        if m:
            out.append((where, m.group(1)))
        elif re.match(r"^\s*(query_result|label_values)\((.*)\)\s*$", q or ""):
            out.append((where, re.match(r"^\s*\w+\((.*)\)\s*$", q).group(1)))
        else:
            out.append((where, None))
    return out


GRAFANA_DURATIONS = {"__rate_interval": "5m", "__interval": "1m", "__range": "1d"}


def substitute_variables(expr):
    """Dashboard variables -> values promtool can parse."""
    def sub(m):
        name = m.group(1) or m.group(2)
        if name in GRAFANA_DURATIONS:
            return GRAFANA_DURATIONS[name]
        if name in ("__range_s", "__interval_ms", "__range_ms"):
            return "60"
        return "example.test"
    return re.sub(r"\$\{(\w+)(?::[^}]*)?\}|\$(\w+)", sub, expr)


# ------------------------------------------------------------------ metric names
def metric_names(expr):
    s = re.sub(r'"(?:[^"\\]|\\.)*"|\'(?:[^\'\\]|\\.)*\'|`[^`]*`', '""', expr)   # strings
    s = re.sub(r"\{[^}]*\}", " ", s)                                              # matchers
    s = re.sub(r"\[[^\]]*\]", " ", s)                                             # ranges, subqueries
    s = re.sub(r"\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)", " ", s)
    names = set()
    for m in re.finditer(r"(?<![\w.:])([a-zA-Z_:][a-zA-Z0-9_:]*)(?!\w)", s):
        word = m.group(1)
        rest = s[m.end():].lstrip()
        if rest.startswith("("):
            continue  # a function or aggregation
        if word.lower() in KEYWORDS:
            continue
        if re.match(r"^\d", word):
            continue
        names.add(word)
    return names


def name_known(name, names, histograms):
    if name in names or name.startswith(EXTRA_PREFIXES):
        return True
    for suffix in ("_bucket", "_sum", "_count"):
        if name.endswith(suffix) and name[: -len(suffix)] in histograms:
            return True
    return False


# ------------------------------------------------------------------------ syntax
def promtool_check(promtool, items):
    """items: [(where, expr)]. Returns [(where, message)] for expressions promtool rejects."""
    def write(items_subset, path):
        with open(path, "w", encoding="utf-8") as f:
            f.write("groups:\n")
            for n, (_, e) in enumerate(items_subset):
                f.write(f"  - name: expr_{n}\n    rules:\n      - record: check:expr_{n}\n        expr: {json.dumps(e)}\n")

    def run(path):
        p = subprocess.run([promtool, "check", "rules", path], capture_output=True, text=True)
        return p.returncode == 0, (p.stdout + p.stderr).strip()

    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "all.rules.yml")
        write(items, path)
        ok, _ = run(path)
        if ok:
            return []
        bad = []  # find the culprits one by one
        for where, e in items:
            one = os.path.join(tmp, "one.rules.yml")
            write([(where, e)], one)
            ok, msg = run(one)
            if not ok:
                bad.append((where, f"{e}\n      {msg.splitlines()[-1] if msg else 'promtool failed'}"))
        return bad or [("(all)", "promtool rejected the combined file but no single expression")]


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--root", default=DEFAULT_ROOT)
    ap.add_argument("--design", default=os.environ.get("MAILTLS_DESIGN_MD", "/work/shared/DESIGN.md"))
    ap.add_argument("--promtool", default="promtool")
    ap.add_argument("--write-snapshot", action="store_true",
                    help="write tests/ops/metrics_contract.txt from --design and exit")
    ap.add_argument("files", nargs="*")
    a = ap.parse_args()

    if os.path.exists(a.design):
        names, histograms = contract_from_design(a.design)
        source = a.design
    else:
        names, histograms = contract_from_snapshot(SNAPSHOT)
        source = SNAPSHOT + " (DESIGN.md not found)"
    if a.write_snapshot:
        with open(SNAPSHOT, "w", encoding="utf-8") as f:
            f.write("# Metric names of DESIGN.md §5 (snapshot used when DESIGN.md is not at hand).\n"
                    "# Regenerate: tests/ops/check_promql.py --write-snapshot\n")
            for n in sorted(names):
                f.write(n + (" histogram" if n in histograms else "") + "\n")
        return 0
    names |= EXTRA_METRICS
    histograms |= EXTRA_HISTOGRAMS

    files = a.files or sorted(glob.glob(os.path.join(a.root, "dashboards", "*.json"))) + \
        sorted(glob.glob(os.path.join(a.root, "alerts", "*.yml")))
    items, problems = [], []
    for path in files:
        found = exprs_from_dashboard(path) if path.endswith(".json") else exprs_from_rules(path)
        if not found:
            problems.append((path, "no PromQL expressions found"))
        for where, e in found:
            if e is None:
                problems.append((where, "expression not extractable (unsupported form)"))
            else:
                items.append((where, substitute_variables(e)))

    unknown = []
    for where, e in items:
        for n in sorted(metric_names(e)):
            if not name_known(n, names, histograms):
                unknown.append((where, n))
    syntax = promtool_check(a.promtool, items) if items else []

    print(f"checked {len(items)} expressions from {len(files)} files; contract: {source}")
    for where, msg in problems:
        print(f"ERROR {where}: {msg}")
    for where, msg in syntax:
        print(f"SYNTAX {where}: {msg}")
    for where, n in unknown:
        print(f"UNKNOWN METRIC {where}: {n}")
    return 1 if (problems or syntax or unknown) else 0


if __name__ == "__main__":
    sys.exit(main())
