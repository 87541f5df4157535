#!/usr/bin/env python3
"""Writes mailtls-overview.json and mailtls-domain.json (Grafana 11 format, schemaVersion 39).

The JSON files are the product (importable as is, also shipped by the Helm chart); this
script only keeps their many panels consistent. Edit here, run `python3 dashboards/generate.py`,
commit both. Datasource: always the ${datasource} template variable, never a UID.

Every PromQL selector gets job=~"$job",cluster=~"$cluster" from target() (see scoped()), so
no expression below spells them out. Panels that show an alert's condition link to that
alert's runbook (runbooks=...); tests/ops/check_dashboards.py checks both.
"""
import json
import os

HERE = os.path.dirname(os.path.abspath(__file__))
DS = {"type": "prometheus", "uid": "${datasource}"}

# The format Grafana 11.0 writes: its dashboard schema and the version it stamps on the
# panels whose options it migrates. The oldest 11.x on purpose: every later Grafana
# migrates forward from it instead of loading a dashboard from its future.
SCHEMA_VERSION = 39
GRAFANA_VERSION = "11.0.0"

# The base of the runbook_url annotations of alerts/mailtls.rules.yml; the anchor is the
# alert name in lower case (GitHub's heading anchor for "## MailTLSDaneBroken").
RUNBOOK_BASE = "https://github.com/mailtls/mailtls_exporter/blob/main/alerts/README.md"

# Added to every selector. Multi-value with All = ".*", and ".*" also matches series
# without the label: a Prometheus without a cluster label (one cluster) still shows data.
SCOPE = 'job=~"$job",cluster=~"$cluster"'


def runbook_url(alert):
    return f"{RUNBOOK_BASE}#{alert.lower()}"


def runbook_links(alerts):
    return [{"title": f"Runbook: {a}", "url": runbook_url(a), "targetBlank": True} for a in alerts]


AGGREGATIONS = {"sum", "min", "max", "avg", "group", "stddev", "stdvar", "count", "count_values",
                "bottomk", "topk", "quantile", "limitk", "limit_ratio"}
LABEL_LIST_KEYWORDS = {"by", "without", "on", "ignoring", "group_left", "group_right"}
KEYWORDS = {"and", "or", "unless", "bool", "offset", "atan2", "inf", "nan"} | LABEL_LIST_KEYWORDS


def _skip_string(expr, i):
    """Index after the string literal that starts at expr[i]."""
    quote, i = expr[i], i + 1
    while i < len(expr) and expr[i] != quote:
        i += 2 if expr[i] == "\\" and quote != "`" else 1
    return i + 1


def _skip_group(expr, i, close):
    """Index after the bracket group that starts at expr[i] (strings inside skipped)."""
    i += 1
    while i < len(expr) and expr[i] != close:
        i = _skip_string(expr, i) if expr[i] in "\"'`" else i + 1
    return i + 1


def scoped(expr, scope=SCOPE):
    """expr with `scope` added to every vector selector: `m` -> `m{scope}`,
    `m{a="b"}` -> `m{a="b",scope}`. Knows the PromQL the dashboards use: strings, range and
    subquery brackets, functions and aggregations, by/on/... label lists, numbers and
    durations, $variables."""
    out, i, n = [], 0, len(expr)
    while i < n:
        c = expr[i]
        if c in "\"'`":
            j = _skip_string(expr, i)
        elif c == "[":
            j = _skip_group(expr, i, "]")
        elif c == "{":  # a selector without a metric name
            j = _skip_group(expr, i, "}")
            out.append(_add_matchers(expr[i:j], scope))
            i = j
            continue
        elif c == "$":
            j = i + 1
            if j < n and expr[j] == "{":
                j = _skip_group(expr, j, "}")
            while j < n and (expr[j].isalnum() or expr[j] == "_"):
                j += 1
        elif c.isdigit() or (c == "." and i + 1 < n and expr[i + 1].isdigit()):
            j = i + 1
            while j < n and (expr[j].isalnum() or expr[j] in "._"):
                j += 1
        elif c.isalpha() or c in "_:":
            j = i + 1
            while j < n and (expr[j].isalnum() or expr[j] in "_:"):
                j += 1
            word = expr[i:j]
            k = j
            while k < n and expr[k].isspace():
                k += 1
            nxt = expr[k] if k < n else ""
            if word in LABEL_LIST_KEYWORDS and nxt == "(":
                j = _skip_group(expr, k, ")")
            elif word in AGGREGATIONS or word.lower() in KEYWORDS or nxt == "(":
                pass  # an operator, or a function name
            elif nxt == "{":
                j = _skip_group(expr, k, "}")
                out.append(word)
                out.append(_add_matchers(expr[k:j], scope))
                i = j
                continue
            else:
                out.append(word + "{" + scope + "}")
                i = j
                continue
        else:
            j = i + 1
        out.append(expr[i:j])
        i = j
    return "".join(out)


def _add_matchers(braces, scope):
    inner = braces[1:-1].strip().rstrip(",")
    return "{" + (inner + "," if inner else "") + scope + "}"


class Layout:
    """Places panels left to right on Grafana's 24-column grid."""

    def __init__(self):
        self.x, self.y, self.row_h, self.next_id = 0, 0, 0, 1

    def place(self, panel, w, h):
        if self.x + w > 24:
            self.x, self.y, self.row_h = 0, self.y + self.row_h, 0
        panel["gridPos"] = {"x": self.x, "y": self.y, "w": w, "h": h}
        panel["id"] = self.next_id
        self.next_id += 1
        self.x += w
        self.row_h = max(self.row_h, h)
        return panel

    def row(self, title):
        if self.x:
            self.x, self.y, self.row_h = 0, self.y + self.row_h, 0
        p = {"type": "row", "title": title, "collapsed": False, "panels": []}
        self.place(p, 24, 1)
        self.x, self.y, self.row_h = 0, self.y + 1, 0
        return p


def target(expr, legend="", instant=False, fmt="time_series", ref="A"):
    t = {"datasource": DS, "expr": scoped(expr), "refId": ref, "legendFormat": legend or "__auto"}
    if instant:
        t.update({"instant": True, "range": False, "format": "table"})
    else:
        t.update({"range": True, "instant": False, "format": fmt})
    return t


def refs(n):
    return [chr(ord("A") + i) for i in range(n)]


def stat(title, expr, unit="none", legend="", thresholds=None, mappings=None, desc="", instant=True, runbooks=()):
    return {
        "type": "stat", "title": title, "description": desc, "datasource": DS,
        "links": runbook_links(runbooks), "pluginVersion": GRAFANA_VERSION,
        "targets": [dict(target(expr, legend), instant=instant, range=not instant)],
        "fieldConfig": {"defaults": {"unit": unit, "mappings": mappings or [],
                                     "thresholds": thresholds or steps(("green", None))}, "overrides": []},
        "options": {"reduceOptions": {"calcs": ["lastNotNull"], "fields": "", "values": False},
                    "colorMode": "background", "graphMode": "none", "textMode": "auto",
                    "justifyMode": "auto", "orientation": "auto",
                    "showPercentChange": False, "wideLayout": True},
    }


def steps(*pairs):
    return {"mode": "absolute", "steps": [{"color": c, "value": v} for c, v in pairs]}


def timeseries(title, exprs, unit="s", desc="", runbooks=()):
    return {
        "type": "timeseries", "title": title, "description": desc, "datasource": DS,
        "links": runbook_links(runbooks), "pluginVersion": GRAFANA_VERSION,
        "targets": [target(e, l, ref=r) for (e, l), r in zip(exprs, refs(len(exprs)))],
        "fieldConfig": {"defaults": {"unit": unit, "custom": {"lineWidth": 1, "fillOpacity": 0}},
                        "overrides": []},
        "options": {"legend": {"showLegend": True, "displayMode": "table", "placement": "bottom",
                               "calcs": ["lastNotNull", "max"]},
                    "tooltip": {"mode": "multi", "sort": "desc"}},
    }


def table(title, exprs, hide=(), rename=None, value_unit=None, overrides=None, desc="", merge=False,
          links=None, sort_by=None, runbooks=()):
    """Instant queries shown as a table. exprs: [(expr, value column name)].
    links: {column: data link URL}; runbooks: alerts whose runbooks the panel links to."""
    exclude = {"Time": True, "__name__": True, "job": True, "instance": True}
    exclude.update({h: True for h in hide})
    transformations = []
    if merge or len(exprs) > 1:
        transformations.append({"id": "merge", "options": {}})
    names = dict(rename or {})
    for (e, col), r in zip(exprs, refs(len(exprs))):
        names["Value" if len(exprs) == 1 else f"Value #{r}"] = col
    transformations.append({"id": "organize", "options": {"excludeByName": exclude, "renameByName": names}})
    ov = list(overrides or [])
    for link_field, url in (links or {}).items():
        ov.append({"matcher": {"id": "byName", "options": link_field},
                   "properties": [{"id": "links", "value": [{"title": "open", "url": url}]}]})
    p = {
        "type": "table", "title": title, "description": desc, "datasource": DS,
        "links": runbook_links(runbooks), "pluginVersion": GRAFANA_VERSION,
        "targets": [target(e, instant=True, ref=r) for (e, _), r in zip(exprs, refs(len(exprs)))],
        "transformations": transformations,
        "fieldConfig": {"defaults": {"unit": value_unit or "none",
                                     "custom": {"align": "auto", "cellOptions": {"type": "auto"},
                                                "inspect": False, "filterable": True}},
                        "overrides": ov},
        "options": {"showHeader": True, "cellHeight": "sm",
                    "footer": {"show": False, "reducer": ["sum"], "fields": "", "countRows": False}},
    }
    if sort_by:
        p["options"]["sortBy"] = [{"displayName": sort_by, "desc": False}]
    return p


def bool_override(col, ok_green=True):
    good, bad = ("green", "red") if ok_green else ("red", "green")
    return {"matcher": {"id": "byName", "options": col}, "properties": [
        {"id": "custom.cellOptions", "value": {"type": "color-background"}},
        {"id": "mappings", "value": [{"type": "value", "options": {
            "0": {"text": "no", "color": bad, "index": 0}, "1": {"text": "yes", "color": good, "index": 1}}}]},
    ]}


def unit_override(col, unit, color_soon=False):
    props = [{"id": "unit", "value": unit}]
    if color_soon:
        props += [{"id": "custom.cellOptions", "value": {"type": "color-background"}},
                  {"id": "thresholds", "value": steps(("red", None), ("orange", 86400), ("yellow", 3 * 86400),
                                                       ("green", 14 * 86400))}]
    return {"matcher": {"id": "byName", "options": col}, "properties": props}


STATUS_COLORS = {
    "valid": "green", "enforced": "green", "testing": "blue", "degraded": "orange",
    "broken": "red", "bogus": "red", "invalid": "red", "not_deployed": "text",
}


def status_override(col="status"):
    return {"matcher": {"id": "byName", "options": col}, "properties": [
        {"id": "custom.cellOptions", "value": {"type": "color-background"}},
        {"id": "mappings", "value": [{"type": "value", "options": {
            k: {"color": v, "index": i} for i, (k, v) in enumerate(STATUS_COLORS.items())}}]},
    ]}


def datasource_var():
    return {"name": "datasource", "label": "Data source", "type": "datasource", "query": "prometheus",
            "current": {}, "hide": 0, "refresh": 1, "regex": "", "options": []}


def query_var(name, label, query, multi):
    """A variable from label_values(...). Multi-value ones have All = ".*" and start on All."""
    v = {"name": name, "label": label, "type": "query", "datasource": DS,
         "query": {"query": query, "refId": name}, "definition": query,
         "refresh": 2, "sort": 1, "hide": 0, "current": {}, "options": [], "regex": "",
         "multi": multi, "includeAll": multi}
    if multi:
        v["allValue"] = ".*"
        v["current"] = {"selected": True, "text": ["All"], "value": ["$__all"]}
    return v


def scope_vars():
    """cluster, then job (the jobs of the chosen clusters). Both from mailtls_build_info,
    which every exporter process exports whatever its domains. On a Prometheus without a
    cluster label, cluster lists nothing but All, which is ".*" and matches everything."""
    jobs = scoped("mailtls_build_info", 'cluster=~"$cluster"')
    return [query_var("cluster", "Cluster", "label_values(mailtls_build_info, cluster)", True),
            query_var("job", "Job", f"label_values({jobs}, job)", True)]


def domain_var(multi):
    return query_var("domain", "Domain", f"label_values({scoped('mailtls_probe_success')}, domain)", multi)


def dashboard_link(title, url):
    """A link to the other dashboard that keeps the time range."""
    return {"title": title, "type": "link", "url": url, "keepTime": True, "includeVars": False,
            "targetBlank": False, "asDropdown": False, "icon": "dashboard", "tags": [], "tooltip": ""}


def dashboard(uid, title, panels, variables, desc, links):
    return {
        "id": None, "uid": uid, "title": title, "description": desc,
        "tags": ["mailtls", "mail", "dane", "mta-sts"], "timezone": "", "editable": True,
        "graphTooltip": 1, "refresh": "1m", "schemaVersion": SCHEMA_VERSION, "version": 1,
        "time": {"from": "now-24h", "to": "now"}, "timepicker": {},
        "fiscalYearStartMonth": 0, "liveNow": False, "weekStart": "",
        "annotations": {"list": [{"builtIn": 1, "datasource": {"type": "grafana", "uid": "-- Grafana --"},
                                  "enable": True, "hide": True, "iconColor": "rgba(0, 211, 255, 1)",
                                  "name": "Annotations & Alerts", "type": "dashboard"}]},
        "links": links, "templating": {"list": variables}, "panels": panels,
    }


SCOPE_PARAMS = "${job:queryparam}&${cluster:queryparam}"
DOMAIN_LINK = f"/d/mailtls-domain/mailtls-domain?${{datasource:queryparam}}&{SCOPE_PARAMS}&var-domain=${{__data.fields.domain}}"
SEL = 'domain=~"$domain"'


def overview():
    L = Layout()
    P = []
    P.append(L.row("Verdicts"))
    # every replica of a sharded exporter reports the whole configuration: count it once per job
    P.append(L.place(stat("Domains configured", "sum(max by (cluster, job) (mailtls_domains_configured))",
                          desc="Domains in the configuration of each exporter (job), summed over jobs and clusters."),
                     4, 4))
    P.append(L.place(stat("DANE broken", f'count(mailtls_dane_status{{{SEL},status=~"broken|bogus"}} == 1) or vector(0)',
                          thresholds=steps(("green", None), ("red", 1)), runbooks=("MailTLSDaneBroken",)), 4, 4))
    P.append(L.place(stat("MTA-STS broken", f'count(mailtls_mtasts_status{{{SEL},status=~"broken|invalid"}} == 1) or vector(0)',
                          thresholds=steps(("green", None), ("red", 1)), runbooks=("MailTLSMtaStsEnforceBroken",)), 4, 4))
    P.append(L.place(stat("Probes failing", f"count(mailtls_probe_success{{{SEL}}} == 0) or vector(0)",
                          thresholds=steps(("green", None), ("orange", 1)), runbooks=("MailTLSProbeFailing",)), 4, 4))
    P.append(L.place(stat("Resolver validating", "min(mailtls_resolver_dnssec_validating)",
                          thresholds=steps(("red", None), ("green", 1)),
                          mappings=[{"type": "value", "options": {"0": {"text": "NO"}, "1": {"text": "yes"}}}],
                          desc="0 on any replica: no DANE/DNSSEC verdict of that replica can be trusted.",
                          runbooks=("MailTLSResolverNotValidating",)), 4, 4))
    P.append(L.place(stat("Scheduler lag (max)", "max(mailtls_scheduler_lag_seconds)", unit="s",
                          thresholds=steps(("green", None), ("orange", 60), ("red", 300)),
                          runbooks=("MailTLSExporterFallingBehind",)), 4, 4))
    P.append(L.place(table("DANE status per domain", [(f"mailtls_dane_status{{{SEL}}} == 1", "v")],
                           hide=("v",), overrides=[status_override()], links={"domain": DOMAIN_LINK},
                           desc="Would a DANE-enforcing sender deliver? Click a domain for the drill-down.",
                           runbooks=("MailTLSDaneBroken", "MailTLSDaneDegraded")), 12, 10))
    P.append(L.place(table("MTA-STS status per domain", [(f"mailtls_mtasts_status{{{SEL}}} == 1", "v")],
                           hide=("v",), overrides=[status_override()], links={"domain": DOMAIN_LINK},
                           desc="Would an MTA-STS-enforcing sender deliver?", runbooks=("MailTLSMtaStsEnforceBroken",)), 12, 10))
    P.append(L.row("Expiring"))
    P.append(L.place(table("MX certificates, soonest expiry",
                           [(f"bottomk(25, min by (domain, mx, address) (mailtls_cert_not_after_timestamp_seconds{{{SEL}}}) - time())", "expires in")],
                           overrides=[unit_override("expires in", "s", True)], sort_by="expires in",
                           links={"domain": DOMAIN_LINK},
                           runbooks=("MailTLSCertificateExpiringSoon", "MailTLSDaneRolloverNotReady")), 8, 10))
    P.append(L.place(table("RRSIG expiry, soonest",
                           [(f"bottomk(25, mailtls_dnssec_signature_expiry_timestamp_seconds{{{SEL}}} - time())", "expires in")],
                           overrides=[unit_override("expires in", "s", True)], sort_by="expires in",
                           links={"domain": DOMAIN_LINK}, runbooks=("MailTLSRrsigExpiringSoon",)), 8, 10))
    P.append(L.place(table("MTA-STS policy host certificates",
                           [(f"bottomk(25, mailtls_mtasts_policy_cert_not_after_timestamp_seconds{{{SEL}}} - time())", "expires in")],
                           overrides=[unit_override("expires in", "s", True)], sort_by="expires in",
                           links={"domain": DOMAIN_LINK}, runbooks=("MailTLSMtaStsPolicyCertExpiringSoon",)), 8, 10))
    P.append(L.place(table("DANE rollover not ready", [(f"mailtls_dane_rollover_ready{{{SEL}}} == 0", "v")], hide=("v",),
                           links={"domain": DOMAIN_LINK},
                           desc="MX hosts whose next key change would break DANE (F3).",
                           runbooks=("MailTLSDaneRolloverNotReady",)), 12, 8))
    P.append(L.place(table("Failing probes", [(f"mailtls_probe_success{{{SEL}}} == 0", "v")], hide=("v",),
                           links={"domain": DOMAIN_LINK}, runbooks=("MailTLSProbeFailing",)), 12, 8))
    P.append(L.row("TLS-RPT (reports received)"))
    P.append(L.place(table("Failures reported in the time range",
                           [('sum by (policy_domain, organization, result_type) '
                             '(increase(mailtls_tlsrpt_report_failures_total{policy_domain=~"$domain"}[$__range])) > 0',
                             "failed sessions")], runbooks=("MailTLSTlsRptFailuresReported",)), 12, 9))
    P.append(L.place(timeseries("Reported sessions by result",
                                [('sum by (result) (increase(mailtls_tlsrpt_report_sessions_total{policy_domain=~"$domain"}[$__rate_interval]))',
                                  "{{result}}")], unit="short"), 12, 9))
    P.append(L.place(timeseries("Reports accepted / rejected",
                                [("sum by (organization) (increase(mailtls_tlsrpt_reports_total[$__rate_interval]))", "accepted {{organization}}"),
                                 ("sum by (reason) (increase(mailtls_tlsrpt_reports_rejected_total[$__rate_interval]))", "rejected {{reason}}")],
                                unit="short"), 24, 7))
    P.append(L.row("Exporter"))
    P.append(L.place(timeseries("Probes in flight / lag",
                                [("mailtls_probes_in_flight", "in flight {{instance}}"),
                                 ("mailtls_scheduler_lag_seconds", "lag s {{instance}}")], unit="short",
                                runbooks=("MailTLSExporterFallingBehind",)), 8, 8))
    # From the handshake time of every address's last probe, which both metrics profiles
    # carry (the lean profile has no handshake histogram).
    P.append(L.place(timeseries("STARTTLS handshake (all domains)",
                                [(f'quantile({q}, mailtls_smtp_phase_duration_seconds{{phase="tls_handshake"}})', f"p{int(q * 100)}")
                                 for q in (0.5, 0.9, 0.99)],
                                desc="Quantiles over every MX address of the TLS handshake time of its last probe.",
                                runbooks=("MailTLSStarttlsSlow",)), 8, 8))
    P.append(L.place(table("Replicas",
                           [("up{job=~\"mailtls.*\"}", "up"),
                            ("mailtls_config_last_reload_successful", "config ok"),
                            ("mailtls_resolver_dnssec_validating", "resolver validating"),
                            ("mailtls_domains_configured", "domains"),
                            ('time() - process_start_time_seconds{job=~"mailtls.*"}', "uptime")],
                           hide=("job",), rename={"instance": "instance"},
                           overrides=[bool_override("up"), bool_override("config ok"),
                                      bool_override("resolver validating"), unit_override("uptime", "s")],
                           desc='Targets of the jobs named mailtls* (as the MailTLSExporterDown alert).',
                           runbooks=("MailTLSExporterDown", "MailTLSConfigReloadFailed", "MailTLSResolverNotValidating")), 8, 8))
    # instance must stay visible in this table
    P[-1]["transformations"][-1]["options"]["excludeByName"].pop("instance")
    P.append(L.place(table("Build", [("mailtls_build_info", "v")], hide=("v",)), 24, 4))
    return dashboard("mailtls-overview", "mailtls: overview", P, [datasource_var(), *scope_vars(), domain_var(True)],
                     "DANE, MTA-STS and TLS-RPT health of all monitored mail domains (mailtls_exporter).",
                     [dashboard_link("Domain", f"/d/mailtls-domain/mailtls-domain?${{datasource:queryparam}}&{SCOPE_PARAMS}&${{domain:queryparam}}")])


D = 'domain="$domain"'


def drilldown():
    L = Layout()
    P = []
    P.append(L.row("Verdicts"))
    status_map = [{"type": "value", "options": {k: {"color": v, "index": i} for i, (k, v) in enumerate(STATUS_COLORS.items())}}]
    P.append(L.place(stat("DANE", f"mailtls_dane_status{{{D}}} == 1", legend="{{status}}", mappings=status_map,
                          desc="Would a DANE-enforcing sender deliver?", runbooks=("MailTLSDaneBroken", "MailTLSDaneDegraded")), 6, 4))
    P[-1]["options"]["textMode"] = "name"
    P.append(L.place(stat("MTA-STS", f"mailtls_mtasts_status{{{D}}} == 1", legend="{{status}}", mappings=status_map,
                          desc="Would an MTA-STS-enforcing sender deliver?", runbooks=("MailTLSMtaStsEnforceBroken",)), 6, 4))
    P[-1]["options"]["textMode"] = "name"
    P.append(L.place(stat("Probe ran to the end", f"mailtls_probe_success{{{D}}}",
                          thresholds=steps(("red", None), ("green", 1)),
                          mappings=[{"type": "value", "options": {"0": {"text": "no"}, "1": {"text": "yes"}}}],
                          runbooks=("MailTLSProbeFailing",)), 4, 4))
    P.append(L.place(stat("Last probe", f"mailtls_probe_timestamp_seconds{{{D}}} * 1000", unit="dateTimeFromNow"), 4, 4))
    P.append(L.place(stat("Probe duration", f"mailtls_probe_duration_seconds{{{D}}}", unit="s"), 4, 4))
    P.append(L.row("MX hosts and addresses"))
    P.append(L.place(table("MX / address matrix", [
        (f"mailtls_smtp_connect_success{{{D}}}", "connect"),
        (f"mailtls_smtp_starttls_offered{{{D}}}", "STARTTLS offered"),
        (f"mailtls_smtp_starttls_success{{{D}}}", "TLS ok"),
        (f"mailtls_dane_match{{{D}}}", "DANE match"),
        (f"mailtls_cert_pkix_valid{{{D}}}", "WebPKI valid"),
        (f"mailtls_mtasts_mx_covered{{{D}}}", "MTA-STS mx covered"),
    ], hide=("domain",), overrides=[bool_override(c) for c in
                                    ("connect", "STARTTLS offered", "TLS ok", "DANE match", "WebPKI valid", "MTA-STS mx covered")],
        desc="One row per MX address (both families); empty cells: not measured (no chain, no DANE, no policy).",
        runbooks=("MailTLSStarttlsUnavailable", "MailTLSTlsaNotUpdatedAfterRenewal", "MailTLSCertificateExpiringSoon",
                  "MailTLSMtaStsMxNotCovered")), 16, 9))
    P.append(L.place(table("MX hosts", [(f"mailtls_mx_info{{{D}}}", "v")], hide=("domain", "v")), 8, 9))
    P.append(L.row("DANE"))
    P.append(L.place(table("TLSA records and their match per address",
                           [(f"mailtls_dane_tlsa_record_match{{{D}}}", "match")],
                           hide=("domain",), overrides=[bool_override("match")],
                           desc="A record that matches on no address is either the pre-published next key or stale (F2).",
                           runbooks=("MailTLSStaleTlsaRecords",)), 24, 9))
    P.append(L.place(table("TLSA RRsets", [
        (f"mailtls_dane_tlsa_records{{{D}}}", "records"),
        (f"mailtls_dane_tlsa_usable_records{{{D}}}", "usable"),
        (f"mailtls_dane_rollover_ready{{{D}}}", "rollover ready"),
        (f"mailtls_dane_tlsa_rrset_first_seen_timestamp_seconds{{{D}}} * 1000", "RRset first seen"),
    ], hide=("domain",), overrides=[bool_override("rollover ready"), unit_override("RRset first seen", "dateTimeAsIso")],
        runbooks=("MailTLSDaneRolloverNotReady", "MailTLSTlsaNotUpdatedAfterRenewal")), 12, 8))
    P.append(L.place(table("Certificates (leaf)", [
        (f"mailtls_cert_not_before_timestamp_seconds{{{D}}} * 1000", "not before"),
        (f"mailtls_cert_not_after_timestamp_seconds{{{D}}} * 1000", "not after"),
        (f"mailtls_cert_not_after_timestamp_seconds{{{D}}} - time()", "expires in"),
    ], hide=("domain",), overrides=[unit_override("not before", "dateTimeAsIso"), unit_override("not after", "dateTimeAsIso"),
                                    unit_override("expires in", "s", True)],
        desc="not before later than the TLSA RRset's first-seen time with no DANE match: F1.",
        runbooks=("MailTLSTlsaNotUpdatedAfterRenewal", "MailTLSCertificateExpiringSoon", "MailTLSDaneRolloverNotReady")), 12, 8))
    P.append(L.place(table("Rollover phase per MX", [
        (f"mailtls_dane_rollover_phase{{{D}}} == 1", "v"),
        (f"mailtls_dane_rollover_safe_to_switch_timestamp_seconds{{{D}}} * 1000", "safe to switch"),
        (f"mailtls_dane_tlsa_original_ttl_seconds{{{D}}}", "TLSA TTL"),
    ], hide=("domain", "v"), overrides=[unit_override("safe to switch", "dateTimeAsIso"), unit_override("TLSA TTL", "s")],
        desc="From the exporter's history (T12): next_published, then next_safe from the safe-to-switch time (the "
             "next key's TLSA record first seen + 2 x TTL); switched_too_fast until that time after an early switch; "
             "old_record_removable after the switch; unknown while the history cannot say.",
        runbooks=("MailTLSDaneRolloverTooFast",)), 24, 6))
    P.append(L.place(table("Certificate details", [(f"mailtls_cert_info{{{D}}}", "v")], hide=("domain", "v")), 12, 7))
    P.append(L.place(table("TLS version and cipher", [(f"mailtls_tls_info{{{D}}}", "v")], hide=("domain", "v")), 12, 7))
    P.append(L.row("DNSSEC"))
    P.append(L.place(table("RRsets: security and earliest RRSIG expiry", [
        (f"mailtls_dnssec_secure{{{D}}}", "secure"),
        (f"mailtls_dnssec_bogus{{{D}}}", "bogus"),
        (f"mailtls_dnssec_signature_expiry_timestamp_seconds{{{D}}} - time()", "RRSIG expires in"),
    ], hide=("domain",), overrides=[bool_override("secure"), bool_override("bogus", ok_green=False),
                                    unit_override("RRSIG expires in", "s", True)],
        runbooks=("MailTLSDnssecBogus", "MailTLSRrsigExpiringSoon")), 24, 8))
    P.append(L.row("STARTTLS latency"))
    P.append(L.place(timeseries("Per phase, per address (last probe)",
                                [(f"mailtls_smtp_phase_duration_seconds{{{D}}}", "{{mx}} {{address}} {{phase}}")],
                                runbooks=("MailTLSStarttlsSlow",)), 12, 9))
    P.append(L.place(timeseries("Handshake time (slowest address, mean)",
                                [(f'max(mailtls_smtp_phase_duration_seconds{{{D},phase="tls_handshake"}})', "slowest"),
                                 (f'avg(mailtls_smtp_phase_duration_seconds{{{D},phase="tls_handshake"}})', "mean")],
                                desc="TLS handshake time of the last probe over the domain's MX addresses (both metrics profiles carry it).",
                                runbooks=("MailTLSStarttlsSlow",)), 12, 9))
    P.append(L.row("MTA-STS"))
    P.append(L.place(table("Policy", [
        (f"mailtls_mtasts_txt_valid{{{D}}}", "TXT valid"),
        (f"mailtls_mtasts_policy_fetch_success{{{D}}}", "fetched"),
        (f"mailtls_mtasts_policy_valid{{{D}}}", "valid"),
        (f"mailtls_mtasts_policy_changed_without_id_change{{{D}}}", "changed without id change"),
        (f"mailtls_mtasts_policy_max_age_seconds{{{D}}}", "max_age"),
    ], overrides=[bool_override("TXT valid"), bool_override("fetched"), bool_override("valid"),
                  bool_override("changed without id change", ok_green=False), unit_override("max_age", "s")],
        runbooks=("MailTLSMtaStsPolicyUnreachable", "MailTLSMtaStsPolicyInvalid",
                  "MailTLSMtaStsPolicyChangedWithoutIdChange")), 12, 5))
    P.append(L.place(table("Policy in effect (id, mode)", [(f"mailtls_mtasts_policy_info{{{D}}}", "v")], hide=("domain", "v"),
                           runbooks=("MailTLSMtaStsMxNotCovered",)), 6, 5))
    P.append(L.place(stat("Policy id last changed", f"mailtls_mtasts_policy_id_last_change_timestamp_seconds{{{D}}} * 1000",
                          unit="dateTimeFromNow"), 6, 5))
    P.append(L.place(stat("Policy host certificate expires in",
                          f"mailtls_mtasts_policy_cert_not_after_timestamp_seconds{{{D}}} - time()", unit="s",
                          thresholds=steps(("red", None), ("orange", 86400), ("yellow", 3 * 86400), ("green", 14 * 86400)),
                          runbooks=("MailTLSMtaStsPolicyCertExpiringSoon",)), 6, 5))
    P.append(L.place(timeseries("Policy id changes", [(f"changes(mailtls_mtasts_policy_id_last_change_timestamp_seconds{{{D}}}[$__rate_interval])", "id changes")],
                                unit="short"), 18, 5))
    P.append(L.place(stat("What senders may hold", f"mailtls_mtasts_sender_cache_status{{{D}}} == 1", legend="{{status}}",
                          desc="The policies served earlier against what is served now and the MX hosts (P7).",
                          runbooks=("MailTLSMtaStsCachedPolicyMxNotCovered", "MailTLSMtaStsWithdrawnWhileCached",
                                    "MailTLSMtaStsDowngradedWhileCached")), 6, 5))
    P[-1]["options"]["textMode"] = "name"
    P.append(L.place(stat("Cached enforce policy expires",
                          f"mailtls_mtasts_cached_enforce_policy_expiry_timestamp_seconds{{{D}}} * 1000", unit="dateTimeFromNow",
                          desc="When the last enforce policy a sender may hold expires (last served + max_age).",
                          runbooks=("MailTLSMtaStsCachedPolicyMxNotCovered", "MailTLSMtaStsWithdrawnWhileCached",
                                    "MailTLSMtaStsDowngradedWhileCached")), 6, 5))
    P.append(L.place(table("MX hosts and the cached enforce policies",
                           [(f"mailtls_mtasts_cached_policy_mx_covered{{{D}}}", "covered by cached policies")],
                           hide=("domain",), overrides=[bool_override("covered by cached policies")],
                           desc="0: senders holding an earlier enforce policy refuse this MX host until it expires.",
                           runbooks=("MailTLSMtaStsCachedPolicyMxNotCovered",)), 12, 5))
    P.append(L.place(table("MX hosts an earlier cached enforce policy does not cover, refused until", [
        (f"mailtls_mtasts_cached_policy_mx_refused_until_timestamp_seconds{{{D}}} * 1000", "refused until"),
        (f"mailtls_mtasts_cached_policy_mx_refused_until_timestamp_seconds{{{D}}} - time()", "for"),
    ], hide=("domain",),
        overrides=[unit_override("refused until", "dateTimeAsIso"), unit_override("for", "s")],
        desc="Senders holding an enforce policy served earlier that does not list this MX host refuse it until "
             "that policy's last serving + max_age (P7, F10). Empty while every MX host is covered.",
        runbooks=("MailTLSMtaStsCachedPolicyMxNotCovered",)), 24, 5))
    P.append(L.row("TLS-RPT"))
    P.append(L.place(stat("TLS-RPT record valid", f"mailtls_tlsrpt_record_valid{{{D}}}",
                          thresholds=steps(("red", None), ("green", 1)),
                          mappings=[{"type": "value", "options": {"0": {"text": "no"}, "1": {"text": "yes"}}}],
                          runbooks=("MailTLSTlsRptRecordInvalid",)), 6, 6))
    P.append(L.place(table("Reporting URIs (rua)", [(f"mailtls_tlsrpt_rua_info{{{D}}}", "v")], hide=("domain", "v")), 6, 6))
    P.append(L.place(table("Sessions reported in the time range", [
        ('sum by (policy_type, organization, result) (increase(mailtls_tlsrpt_report_sessions_total{policy_domain="$domain"}[$__range]))', "sessions")]), 6, 6))
    P.append(L.place(table("Failures reported in the time range", [
        ('sum by (organization, result_type) (increase(mailtls_tlsrpt_report_failures_total{policy_domain="$domain"}[$__range]))', "failed sessions")],
        runbooks=("MailTLSTlsRptFailuresReported",)), 6, 6))
    return dashboard("mailtls-domain", "mailtls: domain", P, [datasource_var(), *scope_vars(), domain_var(False)],
                     "Everything mailtls_exporter knows about one mail domain: MX addresses, TLSA records, certificates, DNSSEC, MTA-STS, TLS-RPT.",
                     [dashboard_link("Overview", f"/d/mailtls-overview/mailtls-overview?${{datasource:queryparam}}&{SCOPE_PARAMS}")])


def main():
    for name, d in (("mailtls-overview.json", overview()), ("mailtls-domain.json", drilldown())):
        with open(os.path.join(HERE, name), "w") as f:
            json.dump(d, f, indent=2, ensure_ascii=False)
            f.write("\n")
        print("wrote dashboards/" + name)


if __name__ == "__main__":
    main()
