#!/usr/bin/env python3
"""docs/metrics.md against the metrics the exporter emits.

Reads the metric tables of docs/metrics.md (rows `| `name` | type | labels | unit | meaning |`)
and the state-set table (rows `| `metric` | `value` | meaning |`), then compares them with:

1. the sources (always): every metric name the code under exporter/ and probes/ registers
   (string literals of the form mailtls_..., process_..., and the tlsrpt_..._total counter
   names that the TLS-RPT receiver prefixes with mailtls_), and the state-set values of
   probes/domain/domain_report.h (kDaneStatuses, kMtaStsStatuses, named by to_string());
2. /metrics pages (each --page FILE, or --url URL to fetch one): every family on the page
   must be documented with exactly the labels it carries, its type must match, and every
   state-set value on the page must be documented.
   With --complete, every documented metric must also appear on the union of the pages
   (use it with a page from a run that exercised everything, as the world test does).

Fails (exit 1) on: a metric the code registers that the page does not list; a documented
metric the code does not register; a label emitted but not documented, or documented but
not emitted; a type mismatch; a state value missing on either side.

The unit test reads tests/docs/metrics_sample.prom, a real page cut to two samples per
family (written by the world test with --write-sample), so that labels are checked without
the world too; the world test checks a fresh page.

usage: metrics_doc.py [--root DIR] [--doc docs/metrics.md] [--page FILE]... [--url URL]
                      [--complete] [--write-page FILE] [--write-sample FILE]
"""
import argparse
import os
import re
import subprocess
import sys
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
DEFAULT_ROOT = os.path.abspath(os.path.join(HERE, "..", ".."))
SOURCE_DIRS = ("exporter", "probes")
SOURCE_EXT = (".cc", ".h")
# String literals that look like metric names but are not metrics.
NOT_METRICS = {"mailtls_exporter"}
TYPES = {"gauge", "counter", "histogram", "summary"}
HISTOGRAM_SUFFIXES = ("_bucket", "_sum", "_count")


# ----------------------------------------------------------------------- the doc
def parse_doc(path):
    """-> ({name: {"type": t, "labels": set, "line": n}}, {metric: {value: line}})"""
    metrics, states = {}, {}
    row = re.compile(r"^\|\s*`([a-zA-Z_:][a-zA-Z0-9_:]*)`\s*\|(.*)\|\s*$")
    with open(path, encoding="utf-8") as f:
        for no, line in enumerate(f, 1):
            m = row.match(line.rstrip("\n"))
            if not m:
                continue
            name, cells = m.group(1), [c.strip() for c in m.group(2).split("|")]
            first = cells[0] if cells else ""
            if first.startswith("`") and len(cells) >= 2:  # state-set row: metric, `value`, meaning
                value = first.strip("`")
                states.setdefault(name, {})[value] = no
                continue
            if len(cells) < 4:
                continue
            typ = first.split()[0].lower() if first else ""
            if typ not in TYPES:
                raise SystemExit(f"{path}:{no}: type of {name} must be one of {sorted(TYPES)}, got {first!r}")
            labels = set(re.findall(r"`([a-zA-Z_][a-zA-Z0-9_]*)`", cells[1]))
            if name in metrics:
                raise SystemExit(f"{path}:{no}: {name} listed twice (first at line {metrics[name]['line']})")
            metrics[name] = {"type": typ, "labels": labels, "line": no}
    if not metrics:
        raise SystemExit(f"{path}: no metric table found")
    return metrics, states


# ------------------------------------------------------------------- the sources
def source_files(root):
    try:
        p = subprocess.run(["git", "-C", root, "ls-files", "-z", "--", *SOURCE_DIRS],
                           capture_output=True, check=True)
        files = [f for f in p.stdout.decode().split("\0") if f.endswith(SOURCE_EXT)]
        if files:
            return files
    except (OSError, subprocess.CalledProcessError):
        pass
    out = []
    for d in SOURCE_DIRS:
        for dirpath, _, names in os.walk(os.path.join(root, d)):
            out += [os.path.relpath(os.path.join(dirpath, n), root) for n in names if n.endswith(SOURCE_EXT)]
    return sorted(out)


def strip_comments(text):
    text = re.sub(r"/\*.*?\*/", " ", text, flags=re.S)
    return re.sub(r"//[^\n]*", " ", text)


def metrics_in_sources(root):
    """{name: [file:line, ...]} of every metric name registered in the C++ sources."""
    found = {}
    literal = re.compile(r'(?<![\\\w])"((?:mailtls|process)_[a-z0-9_]+|tlsrpt_[a-z0-9_]+_total)"')
    for rel in source_files(root):
        with open(os.path.join(root, rel), encoding="utf-8") as f:
            text = strip_comments(f.read())
        for m in literal.finditer(text):
            name = m.group(1)
            if name.startswith("tlsrpt_"):
                name = "mailtls_" + name  # TlsRptReceiver::Collect adds the prefix
            if name in NOT_METRICS:
                continue
            line = text.count("\n", 0, m.start()) + 1
            found.setdefault(name, []).append(f"{rel}:{line}")
    return found


def states_in_sources(root):
    """{metric: set(values)}: the enumerators listed in the state-set arrays of domain_report.h,
    named as their enum's to_string() names them."""
    path = os.path.join(root, "probes", "domain", "domain_report.h")
    with open(path, encoding="utf-8") as f:
        text = f.read()
    out = {}
    for const, enum, source, metric in (
            ("kDaneStatuses", "DaneStatus", "probes/dane/dane_assessment.cc", "mailtls_dane_status"),
            ("kMtaStsStatuses", "MtaStsStatus", "probes/mtasts/mtasts_assessment.cc",
             "mailtls_mtasts_status")):
        m = re.search(const + r"\s*=\s*\{([^}]*)\}", text)
        if not m:
            raise SystemExit(f"{path}: {const} not found")
        with open(os.path.join(root, source), encoding="utf-8") as f:
            names = dict(re.findall(r"case " + enum + r'::(k\w+):\s*return "([^"]*)"', f.read()))
        values = set()
        for enumerator in re.findall(enum + r"::(k\w+)", m.group(1)):
            if enumerator not in names:
                raise SystemExit(f"{source}: no to_string name for {enum}::{enumerator}")
            values.add(names[enumerator])
        out[metric] = values
    # State sets named by a whole enum: the values its to_string() returns.
    for rel, metric in (("probes/dane/rollover_tracker.cc", "mailtls_dane_rollover_phase"),
                        ("probes/mtasts/sender_cache_model.cc", "mailtls_mtasts_sender_cache_status")):
        with open(os.path.join(root, rel), encoding="utf-8") as f:
            values = set(re.findall(r'case \w+::k\w+: return "([a-z_]+)";', f.read()))
        if not values:
            raise SystemExit(f"{rel}: no to_string() cases found")
        out[metric] = values
    return out


# ---------------------------------------------------------------- /metrics pages
def parse_page(text):
    """-> {family: {"type": t, "labels": set, "states": set}} from Prometheus text format."""
    families, types = {}, {}
    sample = re.compile(r"^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(.*)\})?\s+\S+")
    label = re.compile(r'([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"')
    for line in text.splitlines():
        if line.startswith("# TYPE "):
            _, _, name, typ = line.split(None, 3)
            types[name] = typ.strip()
            continue
        if not line or line.startswith("#"):
            continue
        m = sample.match(line)
        if not m:
            continue
        name = m.group(1)
        family = name
        if name not in types:
            for suffix in HISTOGRAM_SUFFIXES:
                base = name[: -len(suffix)]
                if name.endswith(suffix) and types.get(base) in ("histogram", "summary"):
                    family = base
        labels = dict(label.findall(m.group(3) or ""))
        if types.get(family) == "histogram":
            labels.pop("le", None)
        if types.get(family) == "summary":
            labels.pop("quantile", None)
        f = families.setdefault(family, {"type": types.get(family, "untyped"), "labels": set(), "states": set()})
        f["labels"] |= set(labels)
        if family.endswith("_status") and "status" in labels:
            f["states"].add(labels["status"])
    return families


def sample_of(text, per_family=2):
    """The page cut to its first `per_family` series per family (histograms: whole series)."""
    out, kept, types, family = [], {}, {}, None
    for line in text.splitlines():
        if line.startswith("# "):
            parts = line.split(None, 3)
            if len(parts) >= 3 and parts[1] in ("HELP", "TYPE"):
                family = parts[2]
                if parts[1] == "TYPE" and len(parts) == 4:
                    types[family] = parts[3].strip()
            out.append(line)
            continue
        if not line:
            continue
        labels = re.sub(r',?le="[^"]*"', "", line.split(" ")[0].partition("{")[2])
        series = kept.setdefault(family, [])
        if labels in series or len(series) < per_family:
            if labels not in series:
                series.append(labels)
            out.append(line)
    return "\n".join(out) + "\n"


# -------------------------------------------------------------------------- check
def check(doc_metrics, doc_states, source_metrics, source_states, pages, complete):
    problems = []
    for name in sorted(set(source_metrics) - set(doc_metrics)):
        problems.append(f"emitted by the code but not in the doc: {name} ({source_metrics[name][0]})")
    for name in sorted(set(doc_metrics) - set(source_metrics)):
        problems.append(f"in the doc (line {doc_metrics[name]['line']}) but not emitted by the code: {name}")
    for metric, values in sorted(source_states.items()):
        documented = set(doc_states.get(metric, {}))
        for v in sorted(values - documented):
            problems.append(f"state {metric}{{status=\"{v}\"}} emitted by the code but not in the doc")
        for v in sorted(documented - values):
            problems.append(f"state {metric}{{status=\"{v}\"}} in the doc but not emitted by the code")
    for metric in sorted(set(doc_states) - set(source_states)):
        if metric not in doc_metrics:
            problems.append(f"state-set table names {metric}, which is not a documented metric")

    seen = {}
    for where, page in pages:
        for family, f in sorted(page.items()):
            seen.setdefault(family, set()).update(f["labels"])
            doc = doc_metrics.get(family)
            if doc is None:
                problems.append(f"{where}: {family} is on the page but not in the doc")
                continue
            if f["type"] != doc["type"]:
                problems.append(f"{where}: {family} has type {f['type']} on the page, {doc['type']} in the doc")
            for l in sorted(f["labels"] - doc["labels"]):
                problems.append(f"{where}: {family} carries label {l!r}, which the doc does not list")
            for l in sorted(doc["labels"] - f["labels"]):
                problems.append(f"{where}: the doc lists label {l!r} of {family}, which the page does not carry")
            documented = set(doc_states.get(family, {}))
            for v in sorted(f["states"] - documented):
                problems.append(f"{where}: {family}{{status=\"{v}\"}} is on the page but not in the doc")
    if complete and pages:
        for name in sorted(set(doc_metrics) - set(seen)):
            problems.append(f"in the doc (line {doc_metrics[name]['line']}) but on none of the pages: {name}")
    return problems


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--root", default=DEFAULT_ROOT)
    ap.add_argument("--doc", help="default: <root>/docs/metrics.md")
    ap.add_argument("--page", action="append", default=[], help="a saved /metrics page")
    ap.add_argument("--url", action="append", default=[], help="fetch a /metrics page")
    ap.add_argument("--complete", action="store_true",
                    help="every documented metric must appear on the pages")
    ap.add_argument("--write-page", help="save the (first) fetched page here")
    ap.add_argument("--write-sample", help="save the (first) fetched page, cut to two series per family")
    a = ap.parse_args()

    doc_path = a.doc or os.path.join(a.root, "docs", "metrics.md")
    doc_metrics, doc_states = parse_doc(doc_path)
    source_metrics = metrics_in_sources(a.root)
    source_states = states_in_sources(a.root)
    pages = []
    for p in a.page:
        with open(p, encoding="utf-8") as f:
            pages.append((os.path.basename(p), parse_page(f.read())))
    for u in a.url:
        with urllib.request.urlopen(u, timeout=30) as r:
            text = r.read().decode("utf-8")
        if a.write_page and len(pages) == len(a.page):
            with open(a.write_page, "w", encoding="utf-8") as f:
                f.write(text)
        if a.write_sample and len(pages) == len(a.page):
            with open(a.write_sample, "w", encoding="utf-8") as f:
                f.write(sample_of(text))
        pages.append((u, parse_page(text)))

    problems = check(doc_metrics, doc_states, source_metrics, source_states, pages, a.complete)
    print(f"{os.path.relpath(doc_path, a.root)}: {len(doc_metrics)} metrics, "
          f"{sum(len(v) for v in doc_states.values())} state values; sources: {len(source_metrics)} "
          f"metric names; pages: {len(pages)}" + (" (complete)" if a.complete else ""))
    for p in problems:
        print("MISMATCH " + p)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
