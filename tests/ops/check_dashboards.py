#!/usr/bin/env python3
"""Checks that the Grafana dashboards are importable as is and say what they must:
- valid JSON, schemaVersion 39 (Grafana 11.0's; dashboards/generate.py writes the panel
  options of that version and stamps it as pluginVersion on every panel), tables with the
  footer Grafana 11 writes and cellOptions, never the deprecated custom.displayMode;
- a `datasource` template variable of type prometheus used by every panel and query (no
  hard-coded datasource UID anywhere);
- `cluster` and `job` variables (multi-value, All = ".*", so that a Prometheus without a
  cluster label still shows data) and a `domain` variable from
  label_values(mailtls_probe_success{job=~"$job",cluster=~"$cluster"}, domain);
- every selector of every query carries job=~"$job" and cluster=~"$cluster" (a variable's
  query: the matchers of the scope variables listed before it);
- every panel that shows an alert's condition links to that alert's runbook: a panel
  shows it when one of its selectors and one of the alert expression's selectors are of
  the same metric and can select the same series (an alert's `label="v"` against the
  panel's matcher on that label, if the panel has one without a $variable); the link's URL
  is the rule's runbook_url, whose anchor must be a heading of alerts/README.md;
- unique panel ids, panels inside the 24-column grid without overlaps.
Python 3 standard library only. Exits 1 with the offenders listed.

usage: check_dashboards.py [dashboard.json ...]   (default: dashboards/*.json)"""
import glob
import json
import os
import re
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.abspath(os.path.join(HERE, "..", ".."))
sys.path.insert(0, HERE)
import check_promql  # noqa: E402  (its rule-file reader and PromQL selector scanner)

DS_REF = "${datasource}"
SCHEMA_VERSION = 39
SCOPE_VARS = ("cluster", "job")  # in this order: job's query depends on cluster
DOMAIN_QUERY = 'label_values(mailtls_probe_success{job=~"$job",cluster=~"$cluster"}, domain)'


def load_alerts(root=ROOT):
    """{alert name: (runbook_url, [expressions])} of alerts/*.yml."""
    alerts = {}
    for path in sorted(glob.glob(os.path.join(root, "alerts", "*.yml"))):
        exprs = {}
        for where, expr in check_promql.exprs_from_rules(path):
            name = re.search(r"\((.*)\)$", where).group(1)
            exprs.setdefault(name, []).append(expr)
        name = None
        for line in open(path, encoding="utf-8"):
            m = re.match(r"^\s*-\s*(alert|record):\s*(\S+)", line)
            if m:
                name = m.group(2).strip("'\"") if m.group(1) == "alert" else None
            m = re.match(r"^\s*runbook_url:\s*(\S+)", line)
            if m and name:
                alerts[name] = (m.group(1).strip("'\""), exprs.get(name, []))
    return alerts


def readme_anchors(root=ROOT):
    """GitHub's anchors of the headings of alerts/README.md."""
    anchors = set()
    with open(os.path.join(root, "alerts", "README.md"), encoding="utf-8") as f:
        for line in f:
            m = re.match(r"^#{1,6}\s+(.*?)\s*$", line)
            if m:
                anchors.add(re.sub(r"[^\w\- ]", "", m.group(1).lower()).replace(" ", "-"))
    return anchors


def may_select_same(alert_matchers, panel_matchers):
    """False when a label="value" of the alert is excluded by the panel's matcher on that label."""
    for label, op, value in alert_matchers:
        if op != "=":
            continue
        for plabel, pop, pvalue in panel_matchers:
            if plabel != label or "$" in pvalue:
                continue
            if (pop == "=" and pvalue != value) or (pop == "=~" and not re.fullmatch(pvalue, value)):
                return False
    return True


def alerts_shown(panel_exprs, alerts):
    """Names of the alerts whose condition the panel's expressions show."""
    panel_sels = [s for e in panel_exprs for s in check_promql.vector_selectors(e)]
    shown = set()
    for name, (_, exprs) in alerts.items():
        for e in exprs:
            for metric, am in check_promql.vector_selectors(e or ""):
                if any(metric and metric == pm_name and may_select_same(am, pm) for pm_name, pm in panel_sels):
                    shown.add(name)
    return shown


def missing_scope(expr, scope_vars):
    """The selectors of expr that lack label=~"$label" for a label of scope_vars."""
    bad = []
    for metric, ms in check_promql.vector_selectors(expr):
        lacking = [v for v in scope_vars if (v, "=~", "$" + v) not in ms]
        if lacking:
            bad.append(f"{metric or '{...}'} lacks {', '.join(v + '=~' + json.dumps('$' + v) for v in lacking)}")
    return bad


def variable_query(v):
    return v.get("query", {}).get("query") if isinstance(v.get("query"), dict) else v.get("query")


def check(path, alerts, anchors):
    errors = []
    try:
        d = json.load(open(path, encoding="utf-8"))
    except ValueError as e:
        return [f"not JSON: {e}"]
    if d.get("schemaVersion") != SCHEMA_VERSION:
        errors.append(f"schemaVersion {d.get('schemaVersion')}, want {SCHEMA_VERSION}")
    if not d.get("uid") or not d.get("title"):
        errors.append("uid and title required")
    if d.get("id") is not None:
        errors.append("id must be null so that import creates a new dashboard")
    variables = {v.get("name"): v for v in d.get("templating", {}).get("list", [])}
    ds = variables.get("datasource")
    if not ds or ds.get("type") != "datasource" or ds.get("query") != "prometheus":
        errors.append("template variable `datasource` of type datasource/prometheus missing")
    dom = variables.get("domain")
    q = dom and variable_query(dom)
    if q != DOMAIN_QUERY:
        errors.append(f"template variable `domain` must be {DOMAIN_QUERY}, is {q!r}")
    for name in SCOPE_VARS:
        v = variables.get(name)
        if not v or v.get("type") != "query" or not v.get("multi") or not v.get("includeAll") \
                or v.get("allValue") != ".*":
            errors.append(f"template variable `{name}` missing, or not a multi-value query with All = \".*\"")
    # a variable's query filters on the scope variables listed before it
    order = [v.get("name") for v in d.get("templating", {}).get("list", [])]
    if [n for n in order if n in SCOPE_VARS] != list(SCOPE_VARS):
        errors.append(f"template variables {', '.join(SCOPE_VARS)} must come in this order, are {order}")
    for v in d.get("templating", {}).get("list", []):
        if v.get("type") != "query":
            continue
        before = [n for n in SCOPE_VARS if n in order[:order.index(v.get("name"))]]
        m = re.match(r"^\s*label_values\((.*),\s*\w+\s*\)\s*$", variable_query(v) or "")
        if not m:
            errors.append(f"template variable `{v.get('name')}`: not label_values(...)")
            continue
        for problem in missing_scope(m.group(1), before):
            errors.append(f"template variable `{v.get('name')}`: {problem}")

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
                for problem in missing_scope(t.get("expr") or "", SCOPE_VARS):
                    errors.append(f"panel {title!r}: query {t.get('refId')}: {problem}")
            errors.extend(f"panel {title!r}: {e}" for e in check_runbook_links(p, alerts, anchors))
            errors.extend(f"panel {title!r}: {e}" for e in check_grafana11_options(p))
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


def check_runbook_links(panel, alerts, anchors):
    errors = []
    links = [lk.get("url", "") for lk in panel.get("links", [])]
    defaults = panel.get("fieldConfig", {}).get("defaults", {})
    links += [lk.get("url", "") for lk in defaults.get("links", [])]
    # runbook_url in alerts/ is relative to the repository root; a dashboard link is that path
    # under some base address
    def links_to(link, runbook_url):
        return link == runbook_url or link.endswith("/" + runbook_url)

    runbook_urls = [url for url, _ in alerts.values()]
    for name in sorted(alerts_shown([t.get("expr") or "" for t in panel.get("targets", [])], alerts)):
        if not any(links_to(link, alerts[name][0]) for link in links):
            errors.append(f"shows the condition of {name} but does not link to its runbook {alerts[name][0]}")
    for url in links:
        if "README.md#" in url and not any(links_to(url, r) for r in runbook_urls):
            errors.append(f"runbook link {url} is no alert's runbook_url in alerts/*.yml")
        if "README.md#" in url and url.split("#", 1)[1] not in anchors:
            errors.append(f"runbook link {url}: no such heading in alerts/README.md")
    return errors


def check_grafana11_options(panel):
    errors = []
    if not panel.get("pluginVersion"):
        errors.append("no pluginVersion")
    custom_ids = [p.get("id") for o in panel.get("fieldConfig", {}).get("overrides", []) for p in o.get("properties", [])]
    if "displayMode" in panel.get("fieldConfig", {}).get("defaults", {}).get("custom", {}) \
            or "custom.displayMode" in custom_ids:
        errors.append("custom.displayMode is deprecated: use custom.cellOptions")
    if panel.get("type") == "table":
        footer = panel.get("options", {}).get("footer")
        if not isinstance(footer, dict) or set(footer) != {"show", "reducer", "fields", "countRows"}:
            errors.append(f"options.footer must have show, reducer, fields, countRows, is {footer!r}")
        if "cellOptions" not in panel.get("fieldConfig", {}).get("defaults", {}).get("custom", {}):
            errors.append("fieldConfig.defaults.custom.cellOptions missing")
    return errors


def main():
    files = sys.argv[1:] or sorted(glob.glob(os.path.join(ROOT, "dashboards", "*.json")))
    if not files:
        print("no dashboards found")
        return 1
    alerts, anchors = load_alerts(), readme_anchors()
    if not alerts:
        print("no alerts with runbook_url found in alerts/*.yml")
        return 1
    failed = False
    for f in files:
        errs = check(f, alerts, anchors)
        print(f"{os.path.basename(f)}: {'ok' if not errs else str(len(errs)) + ' problem(s)'}")
        for e in errs:
            print("  " + e)
        failed |= bool(errs)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
