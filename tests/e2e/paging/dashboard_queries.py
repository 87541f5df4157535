#!/usr/bin/env python3
"""Runs every PromQL expression of the shipped Grafana dashboards against a live Prometheus
and checks that each returns data (at least one series with a finite value).

usage: dashboard_queries.py <prometheus base URL> [--domain D] [--sts-domain S]
                            [--extra-domain E] [--dashboards DIR] [--panel TITLE ...]
                            [--profile lean --healthy-domain H --healthy-sts-domain HS]
       dashboard_queries.py --self-test [--dashboards DIR]   (no Prometheus needed)

With --profile lean (an exporter with metrics.profile: lean, docs/metrics.md "Profiles"), D and
S must be domains with something wrong, whose every series the lean profile keeps: then every
expression of the domain dashboard must return data as above, and of the overview with H, HS
and E as its domains. The domain dashboard is then run again for the healthy domains H and HS: an expression that reads only families a lean domain with nothing wrong keeps
(tests/ops/lean_series.py) must return data, one that reads any other family must return none.

Expressions come from tests/ops/check_promql.py's extractor (panel targets, nested rows, and
the template variables' queries). Grafana's variables are replaced as a user would see them:
  domain dashboard:   $domain -> --domain (default dane-good.test), except for the MTA-STS
                      panels listed in STS_PANELS, which show --sts-domain (sts-enforce.test),
                      because a DANE-only domain legitimately has no MTA-STS policy series;
  overview dashboard: $domain -> "D|S|E" (a multi-value regex selection of every domain the
                      test's exporter probes);
  both:               $job, $cluster -> ".*", what Grafana sends for their "All" (allValue);
                      ".*" also matches series without the label, as this test's Prometheus
                      has no cluster label;
  $__rate_interval -> 1m, $__interval -> 15s, $__range -> 1h, ${datasource} is not in exprs.
Panels that legitimately have no data in this setup are listed in EXPECTED_EMPTY with the
reason; they are printed, never skipped silently. With --panel, only the panels of those titles
are queried, and each of their expressions must return data (EXPECTED_EMPTY does not apply: the
caller queries them at a moment their data must exist, as the stories test does).
Prints "ok ..." / "FAIL ..." lines and "N passed, N failed"; exits 1 on any failure.
"""
import argparse
import ast
import json
import math
import os
import re
import sys
import urllib.parse
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.abspath(os.path.join(HERE, "..", "..", ".."))
sys.path.insert(0, os.path.join(ROOT, "tests", "ops"))
import check_promql  # noqa: E402  (the extractor the static PromQL check uses)
import lean_series  # noqa: E402  (which families the lean profile keeps)

# (dashboard file, panel title) whose $domain is the MTA-STS domain: these panels are about
# the MTA-STS policy, which a DANE-only domain (no _mta-sts record) does not have.
STS_PANELS = {
    ("mailtls-domain.json", "Policy"),
    ("mailtls-domain.json", "Policy in effect (id, mode)"),
    ("mailtls-domain.json", "Policy id last changed"),
    ("mailtls-domain.json", "Policy host certificate expires in"),
    ("mailtls-domain.json", "Policy id changes"),
    ("mailtls-domain.json", "MX / address matrix", "F"),  # mailtls_mtasts_mx_covered
    ("mailtls-domain.json", "What senders may hold"),
    ("mailtls-domain.json", "Cached enforce policy expires"),
    ("mailtls-domain.json", "MX hosts and the cached enforce policies"),
    ("mailtls-domain.json", "MX hosts an earlier cached enforce policy does not cover, refused until"),
}

# (dashboard file, panel title, refId) -> why no data is right here. Keep this short.
EXPECTED_EMPTY = {
    ("mailtls-overview.json", "Failing probes", "A"):
        "mailtls_probe_success == 0 lists probes that did not complete; every probe of the world "
        "completes (no world domain makes one fail deterministically: a 1 ms timeout does, but "
        "its partial results are not stable enough for a paging test). Its sibling stat "
        "'Probes failing' (count ... or vector(0)) is checked and has data.",
    ("mailtls-domain.json", "Rollover phase per MX", "B"):
        "the safe-to-switch time exists only while a next key is published; dane-good.test has "
        "none (docs_metrics_world sees it for dane-rollover.test, the unit tests check its value)",
    ("mailtls-domain.json", "MX hosts and the cached enforce policies", "A"):
        "only while an enforce policy served earlier can still be cached; the world serves one "
        "policy per domain (docs_metrics_world seeds such a history and sees the series)",
    ("mailtls-domain.json", "MX hosts an earlier cached enforce policy does not cover, refused until", "A"):
        "only for an MX host such an earlier cached enforce policy does not cover (as above)",
    ("mailtls-domain.json", "MX hosts an earlier cached enforce policy does not cover, refused until", "B"):
        "the same series as refId A",
}

DURATIONS = {"__rate_interval": "1m", "__interval": "15s", "__range": "1h"}
# The multi-value scope variables, set to "All": Grafana interpolates their allValue.
ALL_VALUES = {"job": ".*", "cluster": ".*"}


def substitute(expr, domain_value):
    def sub(m):
        name = m.group(1) or m.group(2)
        if name in DURATIONS:
            return DURATIONS[name]
        if name in ("__range_s",):
            return "3600"
        if name in ("__interval_ms",):
            return "15000"
        if name == "domain":
            return domain_value
        if name in ALL_VALUES:
            return ALL_VALUES[name]
        raise SystemExit(f"unknown dashboard variable ${name} in {expr!r}: teach dashboard_queries.py about it")
    return re.sub(r"\$\{(\w+)(?::[^}]*)?\}|\$(\w+)", sub, expr)


def query(base, expr, timeout=3):
    url = base.rstrip("/") + "/api/v1/query?" + urllib.parse.urlencode({"query": expr})
    with urllib.request.urlopen(url, timeout=timeout) as r:
        reply = json.loads(r.read(4 << 20))
    if reply.get("status") != "success":
        raise RuntimeError(reply.get("error", "query failed"))
    return reply["data"]


def finite_values(data):
    if data["resultType"] == "vector":
        values = [s["value"][1] for s in data["result"]]
    elif data["resultType"] == "scalar":
        values = [data["result"][1]]
    else:
        values = [v[1] for s in data["result"] for v in s.get("values", [])]
    return [float(v) for v in values if not math.isnan(float(v))]


def panel_key(where):
    """'mailtls-domain.json panel 'X' ref A' -> (file, title, ref)."""
    m = re.match(r"^(\S+) panel (.*) ref (\S+)$", where)
    if not m:
        return None
    return m.group(1), ast.literal_eval(m.group(2)), m.group(3)  # the title is a Python repr


def self_test(dashboards):
    """Checks substitute() without a Prometheus: the scope variables become Grafana's "All",
    and every expression of the dashboards comes out free of variables."""
    failures = []
    want = {
        'up{job=~"mailtls.*",job=~"$job",cluster=~"$cluster"}': 'up{job=~"mailtls.*",job=~".*",cluster=~".*"}',
        'm{domain="$domain",job=~"${job}",cluster=~"${cluster:regex}"}[$__rate_interval]':
            'm{domain="d.test",job=~".*",cluster=~".*"}[1m]',
    }
    for expr, expected in want.items():
        got = substitute(expr, "d.test")
        if got != expected:
            failures.append(f"substitute({expr!r}) = {got!r}, want {expected!r}")
    count = 0
    for name in sorted(f for f in os.listdir(dashboards) if f.endswith(".json")):
        for where, expr in check_promql.exprs_from_dashboard(os.path.join(dashboards, name)):
            count += 1
            promql = substitute(expr or "", "d.test")
            if "$" in promql:
                failures.append(f"{where}: variable left in {promql!r}")
            if '"$job"' in (expr or "") and 'job=~".*"' not in promql:
                failures.append(f"{where}: $job not replaced by .* in {promql!r}")
    for f in failures:
        print("FAIL " + f)
    print(f"self-test: {count} dashboard expressions substituted, {len(failures)} failure(s)")
    return 1 if failures or not count else 0


def lean_detail_families(expr):
    """The families of `expr` that a lean-profile domain with nothing wrong does not export."""
    return sorted(set(re.findall(r"\bmailtls_[a-z0-9_]+", expr)) & lean_series.DETAIL_FAMILIES)


def reads_domain_series(expr):
    """Whether `expr` reads a per-domain family (one the profile cuts), not only the TLS-RPT
    report counters or the exporter's own series, which are the same in both profiles."""
    names = set(re.findall(r"\bmailtls_[a-z0-9_]+", expr))
    return bool(names & (lean_series.LEAN_FAMILIES | lean_series.DETAIL_FAMILIES))


def check(base, where, promql, expect_data, reason=None):
    """One expression: 1 when it passed, 0 when it failed (printed either way)."""
    try:
        data = query(base, promql)
    except Exception as e:  # noqa: BLE001  (report any query error as a failure)
        print(f"FAIL {where}: {promql}: {e}")
        return 0
    values = finite_values(data)
    if not expect_data:
        if values:
            print(f"FAIL {where}: {len(values)} value(s), but the lean profile has no such series "
                  f"for a domain with nothing wrong ({reason}) [{promql}]")
            return 0
        print(f"ok   {where}: no data, as the lean profile has none for a healthy domain ({reason}) [{promql}]")
        return 1
    if values:
        note = f" (listed in EXPECTED_EMPTY but has data now: remove it)" if reason else ""
        print(f"ok   {where}: {len(values)} finite value(s) [{promql}]{note}")
        return 1
    if reason:
        print(f"ok   {where}: no data, as expected: {reason} [{promql}]")
        return 1
    print(f"FAIL {where}: no data [{promql}] -> {json.dumps(data)[:300]}")
    return 0


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("prometheus", nargs="?")
    ap.add_argument("--domain", default="dane-good.test")
    ap.add_argument("--sts-domain", default="sts-enforce.test")
    ap.add_argument("--extra-domain", default="tlsrpt-bad.test")
    ap.add_argument("--dashboards", default=os.path.join(ROOT, "dashboards"))
    ap.add_argument("--self-test", action="store_true", help="check the variable substitution and exit")
    ap.add_argument("--panel", action="append", default=[], help="only the panels of this title")
    ap.add_argument("--profile", choices=("full", "lean"), default="full")
    ap.add_argument("--healthy-domain", default="dane-good.test")
    ap.add_argument("--healthy-sts-domain", default="sts-enforce.test")
    a = ap.parse_args()
    if a.self_test:
        return self_test(a.dashboards)
    if not a.prometheus:
        ap.error("the Prometheus base URL is required")

    passed = failed = 0
    files = sorted(f for f in os.listdir(a.dashboards) if f.endswith(".json"))
    if not files:
        print(f"FAIL no dashboards in {a.dashboards}")
        return 1
    for name in files:
        items = check_promql.exprs_from_dashboard(os.path.join(a.dashboards, name))
        if not items:
            print(f"FAIL {name}: no expressions found")
            failed += 1
        for where, expr in items:
            if expr is None:
                print(f"FAIL {where}: expression not extractable")
                failed += 1
                continue
            key = panel_key(where)
            if a.panel and (key is None or key[1] not in a.panel):
                continue
            lean = a.profile == "lean"
            if name == "mailtls-domain.json":
                sts = key is not None and ((key[0], key[1]) in STS_PANELS or key in STS_PANELS)
                domain_value = a.sts_domain if sts else a.domain
                healthy = a.healthy_sts_domain if sts else a.healthy_domain
                if lean and not reads_domain_series(expr):
                    domain_value = healthy  # the TLS-RPT reports the test sends are about it
            else:
                # lean: the healthy domains only, since the overview must work on the lean series
                domains = [a.healthy_domain, a.healthy_sts_domain] if lean else [a.domain, a.sts_domain]
                domain_value = "|".join(domains + [a.extra_domain])
            reason = None if a.panel else EXPECTED_EMPTY.get(key)
            ok = check(a.prometheus, where, substitute(expr, domain_value), True, reason)
            passed, failed = passed + ok, failed + 1 - ok
            if lean and name == "mailtls-domain.json" and reads_domain_series(expr):
                detail = lean_detail_families(expr)
                reason = ", ".join(detail) if detail else EXPECTED_EMPTY.get(key)
                ok = check(a.prometheus, f"{where} (healthy {healthy})", substitute(expr, healthy), not detail, reason)
                passed, failed = passed + ok, failed + 1 - ok
    if a.panel and not passed + failed:
        print(f"FAIL no panel titled {a.panel}")
        failed += 1
    print(f"{passed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
