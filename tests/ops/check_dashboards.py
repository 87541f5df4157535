#!/usr/bin/env python3
"""Checks that the Grafana dashboards are importable as is: valid JSON, schemaVersion 38,
a `datasource` template variable of type prometheus used by every panel and query (no
hard-coded datasource UID anywhere), a `domain` variable from
label_values(mailtls_probe_success, domain), unique panel ids, panels inside the 24-column
grid without overlaps. Python 3 standard library only. Exits 1 with the offenders listed."""
import glob
import json
import os
import sys

ROOT = os.path.abspath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))
DS_REF = "${datasource}"


def check(path):
    errors = []
    try:
        d = json.load(open(path, encoding="utf-8"))
    except ValueError as e:
        return [f"not JSON: {e}"]
    if d.get("schemaVersion") != 38:
        errors.append(f"schemaVersion {d.get('schemaVersion')}, want 38")
    if not d.get("uid") or not d.get("title"):
        errors.append("uid and title required")
    if d.get("id") is not None:
        errors.append("id must be null so that import creates a new dashboard")
    variables = {v.get("name"): v for v in d.get("templating", {}).get("list", [])}
    ds = variables.get("datasource")
    if not ds or ds.get("type") != "datasource" or ds.get("query") != "prometheus":
        errors.append("template variable `datasource` of type datasource/prometheus missing")
    dom = variables.get("domain")
    q = dom and (dom.get("query", {}).get("query") if isinstance(dom.get("query"), dict) else dom.get("query"))
    if q != "label_values(mailtls_probe_success, domain)":
        errors.append(f"template variable `domain` must be label_values(mailtls_probe_success, domain), is {q!r}")

    # every datasource reference anywhere must be the variable (or Grafana's built-in one)
    def walk(node, where):
        if isinstance(node, dict):
            for k, v in node.items():
                if k == "datasource" and v is not None:
                    uid = v.get("uid") if isinstance(v, dict) else v
                    if uid not in (DS_REF, "-- Grafana --"):
                        errors.append(f"{where}: datasource {v!r} is not {DS_REF}")
                    if isinstance(v, dict) and v.get("type") not in ("prometheus", "grafana"):
                        errors.append(f"{where}: datasource type {v.get('type')!r}")
                walk(v, f"{where}.{k}")
        elif isinstance(node, list):
            for i, v in enumerate(node):
                walk(v, f"{where}[{i}]")
    walk(d, "$")

    ids, cells = set(), {}
    panels = list(d.get("panels", []))
    for p in panels:
        panels.extend(p.get("panels", []))
    for p in panels:
        title = p.get("title")
        if p.get("id") in ids:
            errors.append(f"panel {title!r}: duplicate id {p.get('id')}")
        ids.add(p.get("id"))
        if p.get("type") != "row":
            if (p.get("datasource") or {}).get("uid") != DS_REF:
                errors.append(f"panel {title!r}: datasource is not {DS_REF}")
            if not p.get("targets"):
                errors.append(f"panel {title!r}: no queries")
            for t in p.get("targets", []):
                if (t.get("datasource") or {}).get("uid") != DS_REF or not t.get("expr") or not t.get("refId"):
                    errors.append(f"panel {title!r}: query {t.get('refId')} lacks datasource/expr/refId")
        g = p.get("gridPos", {})
        x, y, w, h = (g.get(k) for k in ("x", "y", "w", "h"))
        if None in (x, y, w, h) or x < 0 or w < 1 or x + w > 24 or h < 1:
            errors.append(f"panel {title!r}: bad gridPos {g}")
            continue
        for cx in range(x, x + w):
            for cy in range(y, y + h):
                if (cx, cy) in cells:
                    errors.append(f"panel {title!r} overlaps {cells[(cx, cy)]!r}")
                    break
                cells[(cx, cy)] = title
            else:
                continue
            break
    return errors


def main():
    files = sys.argv[1:] or sorted(glob.glob(os.path.join(ROOT, "dashboards", "*.json")))
    if not files:
        print("no dashboards found")
        return 1
    failed = False
    for f in files:
        errs = check(f)
        print(f"{os.path.basename(f)}: {'ok' if not errs else str(len(errs)) + ' problem(s)'}")
        for e in errs:
            print("  " + e)
        failed |= bool(errs)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
