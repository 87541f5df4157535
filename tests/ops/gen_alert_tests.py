#!/usr/bin/env python3
"""Writes alerts/tests/*.test.yml, the promtool unit tests of alerts/mailtls.rules.yml.

The scenarios below (input series, evaluation times, the alerts expected with their exact
labels, the $value each should have) are written by hand. Only the expected annotation
text is rendered here from the rule file, by a deliberately small renderer that knows
{{ $labels.x }}, {{ $value }} and {{ $value | humanizeDuration }} and fails when an
annotation uses a label the expected alert does not carry. promtool then renders the same
annotations with Go templates and compares.

Every alert gets at least one evaluation before it should fire (the condition pending
under `for:`, or not true yet) and one when it fires; distractor series check the
filters. Re-run after changing the rules:  python3 tests/ops/gen_alert_tests.py

The same scenarios test a customised copy of the rules (the Helm chart's PrometheusRule with
prometheusRule.* values applied): --rules FILE --out DIR, with --severity-map when severities
were renamed. Alerts missing from FILE (disabled) lose their cases; labels and annotations
expected are read from FILE, so added labels, new severities and runbook URLs are checked.
With --profile lean (alerts/tests/lean/) the same scenarios run on the series a lean-profile
exporter exports (tests/ops/lean_series.py: state sets with their current state only, a domain
with nothing wrong cut to the lean families) and must raise the same alerts, except those
marked full_only() with the reason the lean profile does not raise them.
Needs python3-yaml.
"""
import argparse
import math
import os
import re
import sys

import yaml

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import lean_series  # noqa: E402  (the lean profile's model, next to this file)

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
_args = argparse.ArgumentParser(description=__doc__.splitlines()[0])
_args.add_argument("--rules", default=os.path.join(ROOT, "alerts", "mailtls.rules.yml"))
_args.add_argument("--out", default="", help="default alerts/tests, alerts/tests/lean with --profile lean")
_args.add_argument("--severity-map", default="", help="old=new,... as prometheusRule.severityMap")
_args.add_argument("--profile", choices=("full", "lean"), default="full",
                   help="the metrics profile whose series the scenarios feed to the rules")
ARGS = _args.parse_args()
RULES = os.path.abspath(ARGS.rules)
OUT = os.path.abspath(ARGS.out or os.path.join(ROOT, "alerts", "tests", *(("lean",) if ARGS.profile == "lean" else ())))
SEVERITY_MAP = dict(kv.split("=", 1) for kv in ARGS.severity_map.split(",") if kv)
DAY = 86400


def humanize_duration(v):
    # Prometheus template function humanizeDuration, for the values used here.
    if abs(v) >= 1:
        sign = "-" if v < 0 else ""
        v = abs(v)
        s = int(v)
        seconds, minutes, hours, days = s % 60, (s // 60) % 60, (s // 3600) % 24, s // 86400
        if days:
            return f"{sign}{days}d {hours}h {minutes}m {seconds}s"
        if hours:
            return f"{sign}{hours}h {minutes}m {seconds}s"
        if minutes:
            return f"{sign}{minutes}m {seconds}s"
        return f"{sign}{v:.4g}s"
    return f"{v:.4g}s"


def format_value(v):
    return str(int(v)) if float(v).is_integer() else repr(float(v))


def render(text, labels, value):
    def sub(m):
        expr = m.group(1).strip()
        if expr.startswith("$labels."):
            name = expr[len("$labels."):]
            if name not in labels:
                raise SystemExit(f"annotation uses label {name!r} the expected alert lacks: {labels}")
            return labels[name]
        if expr == "$value":
            if value is None:
                raise SystemExit(f"annotation uses $value but the scenario gives none: {labels}")
            return format_value(value)
        if expr == "$value | humanizeDuration":
            if value is None:
                raise SystemExit(f"annotation uses $value but the scenario gives none: {labels}")
            return humanize_duration(value)
        raise SystemExit(f"template {expr!r} unknown to this renderer")
    return re.sub(r"\{\{(.*?)\}\}", sub, text)


def load_rules():
    with open(RULES) as f:
        doc = yaml.safe_load(f)
    rules = {}
    for group in doc["groups"]:
        for rule in group["rules"]:
            rules.setdefault(rule["alert"], []).append(rule)
    return rules


RULES_BY_NAME = load_rules()


def alert(alertname, severity=None, value=None, **labels):
    """An expected alert: its rule's labels + the series labels given, annotations rendered."""
    name = alertname
    if name not in RULES_BY_NAME:
        return None  # disabled in a customised copy: main() drops the cases of this alert
    candidates = RULES_BY_NAME[name]
    if severity is not None:
        severity = SEVERITY_MAP.get(severity, severity)
        candidates = [r for r in candidates if r["labels"]["severity"] == severity]
    if len(candidates) != 1:
        raise SystemExit(f"{name}: give the severity to pick one rule")
    rule = candidates[0]
    all_labels = dict(labels)
    all_labels.update(rule["labels"])
    all_labels["alertname"] = name
    exp_labels = dict(labels)
    exp_labels.update(rule["labels"])
    return {
        "exp_labels": exp_labels,
        "exp_annotations": {k: render(v, all_labels, value) for k, v in rule["annotations"].items()},
    }


def full_only(expected, why):
    """An expected alert the lean profile does not raise, and why (docs/metrics.md, "Profiles")."""
    if expected is not None:
        expected["full_only"] = why
    return expected


def series(metric, values):
    return {"series": metric, "values": values}


def case(name, at, *alerts):
    return {"eval_time": at, "alertname": name, "exp_alerts": list(alerts)}


D = "example.com"
MX1, MX2, MX3 = "mx1.example.com", "mx2.example.com", "mx3.example.com"
A1, A2, A3 = "192.0.2.25", "2001:db8::25", "192.0.2.26"


def lbl(metric, **labels):
    inner = ",".join(f'{k}="{v}"' for k, v in labels.items())
    return f"{metric}{{{inner}}}"


FILES = {}

# ---------------------------------------------------------------------------------- DANE
FILES["dane"] = [
    {
        "interval": "1m",
        "input_series": [
            # broken from minute 5 on; the verdict of other.example flips between states
            series(lbl("mailtls_dane_status", domain=D, status="broken"), "0x4 1x60"),
            series(lbl("mailtls_dane_status", domain=D, status="valid"), "1x4 0x60"),
            series(lbl("mailtls_dane_status", domain="other.example", status="broken"), "0x65"),
            series(lbl("mailtls_dane_status", domain="other.example", status="degraded"), "1x65"),
        ],
        "alert_rule_test": [
            case("MailTLSDaneBroken", "4m"),
            case("MailTLSDaneBroken", "14m"),  # broken for 9m: pending
            case("MailTLSDaneBroken", "16m", alert("MailTLSDaneBroken", domain=D, status="broken")),
            case("MailTLSDaneDegraded", "20m"),
            case("MailTLSDaneDegraded", "31m", alert("MailTLSDaneDegraded", domain="other.example", status="degraded")),
        ],
    },
    {
        # F1: mx1 renewed at t=2000 after its TLSA RRset was first seen at t=1000, matches nowhere.
        "interval": "1m",
        "input_series": [
            series(lbl("mailtls_cert_not_before_timestamp_seconds", domain=D, mx=MX1, address=A1), "2000x30"),
            series(lbl("mailtls_cert_not_before_timestamp_seconds", domain=D, mx=MX1, address=A2), "2000x30"),
            series(lbl("mailtls_dane_tlsa_rrset_first_seen_timestamp_seconds", domain=D, mx=MX1), "1000x30"),
            series(lbl("mailtls_dane_match", domain=D, mx=MX1, address=A1), "0x30"),
            series(lbl("mailtls_dane_match", domain=D, mx=MX1, address=A2), "0x30"),
            # mx2: no match, but the certificate is older than the TLSA RRset (not a renewal)
            series(lbl("mailtls_cert_not_before_timestamp_seconds", domain=D, mx=MX2, address=A3), "500x30"),
            series(lbl("mailtls_dane_tlsa_rrset_first_seen_timestamp_seconds", domain=D, mx=MX2), "1000x30"),
            series(lbl("mailtls_dane_match", domain=D, mx=MX2, address=A3), "0x30"),
            # mx3: renewed after the RRset, but one address still matches
            series(lbl("mailtls_cert_not_before_timestamp_seconds", domain=D, mx=MX3, address="192.0.2.27"), "2000x30"),
            series(lbl("mailtls_cert_not_before_timestamp_seconds", domain=D, mx=MX3, address="192.0.2.28"), "2000x30"),
            series(lbl("mailtls_dane_tlsa_rrset_first_seen_timestamp_seconds", domain=D, mx=MX3), "1000x30"),
            series(lbl("mailtls_dane_match", domain=D, mx=MX3, address="192.0.2.27"), "0x30"),
            series(lbl("mailtls_dane_match", domain=D, mx=MX3, address="192.0.2.28"), "1x30"),
        ],
        "alert_rule_test": [
            case("MailTLSTlsaNotUpdatedAfterRenewal", "5m"),
            case("MailTLSTlsaNotUpdatedAfterRenewal", "11m",
                 alert("MailTLSTlsaNotUpdatedAfterRenewal", domain=D, mx=MX1)),
        ],
    },
    {
        # F3: mx1 not ready and its certificate expires at day 20; mx2 not ready but 60 days
        # left; mx3 ready with 20 days left.
        "interval": "5m",
        "input_series": [
            series(lbl("mailtls_dane_rollover_ready", domain=D, mx=MX1), "0x40"),
            series(lbl("mailtls_cert_not_after_timestamp_seconds", domain=D, mx=MX1, address=A1), f"{20 * DAY}x40"),
            series(lbl("mailtls_cert_not_after_timestamp_seconds", domain=D, mx=MX1, address=A2), f"{25 * DAY}x40"),
            series(lbl("mailtls_dane_rollover_ready", domain=D, mx=MX2), "0x40"),
            series(lbl("mailtls_cert_not_after_timestamp_seconds", domain=D, mx=MX2, address=A3), f"{60 * DAY}x40"),
            series(lbl("mailtls_dane_rollover_ready", domain=D, mx=MX3), "1x40"),
            series(lbl("mailtls_cert_not_after_timestamp_seconds", domain=D, mx=MX3, address="192.0.2.27"), f"{20 * DAY}x40"),
        ],
        "alert_rule_test": [
            case("MailTLSDaneRolloverNotReady", "50m"),
            case("MailTLSDaneRolloverNotReady", "70m", alert("MailTLSDaneRolloverNotReady", domain=D, mx=MX1)),
        ],
    },
    {
        # F2: at mx1, key A matches, B (the next key) and C (an old one) match nowhere, D matches
        # on one address. At mx2 the only unmatched record is the pre-published next key.
        "interval": "5m",
        "input_series": [
            series(lbl("mailtls_dane_tlsa_record_match", domain=D, mx=MX1, address=a, usage="3", selector="1",
                       matching_type="1", data=data), v)
            for a in (A1, A2)
            for data, v in (("aa" * 32, "1x100"), ("bb" * 32, "0x100"), ("cc" * 32, "0x100"),
                            ("dd" * 32, "1x100" if a == A1 else "0x100"))
        ] + [
            series(lbl("mailtls_dane_tlsa_record_match", domain=D, mx=MX2, address=A3, usage="3", selector="1",
                       matching_type="1", data=data), v)
            for data, v in (("ee" * 32, "1x100"), ("ff" * 32, "0x100"))
        ],
        "alert_rule_test": [
            case("MailTLSStaleTlsaRecords", "5h"),
            case("MailTLSStaleTlsaRecords", "7h",
                 alert("MailTLSStaleTlsaRecords", domain=D, mx=MX1, usage="3", selector="1",
                       matching_type="1", data="bb" * 32),
                 alert("MailTLSStaleTlsaRecords", domain=D, mx=MX1, usage="3", selector="1",
                       matching_type="1", data="cc" * 32)),
        ],
    },
]

# -------------------------------------------------------------------------------- DNSSEC
TLSA1 = "_25._tcp." + MX1
FILES["dnssec"] = [
    {
        "interval": "1m",
        "input_series": [
            series(lbl("mailtls_dnssec_bogus", domain=D, name=TLSA1, type="TLSA"), "0x2 1x30"),
            series(lbl("mailtls_dnssec_bogus", domain=D, name=D, type="MX"), "0x32"),
        ],
        "alert_rule_test": [
            case("MailTLSDnssecBogus", "10m"),
            case("MailTLSDnssecBogus", "13m",
                 alert("MailTLSDnssecBogus", domain=D, name=TLSA1, type="TLSA")),
        ],
    },
    {
        # RRSIG of the MX RRset expires at 2d5h, of the TLSA RRset at 20h, of A at 10 days.
        "interval": "5m",
        "input_series": [
            series(lbl("mailtls_dnssec_signature_expiry_timestamp_seconds", domain=D, name=D, type="MX"),
                   f"{2 * DAY + 5 * 3600}x30"),
            series(lbl("mailtls_dnssec_signature_expiry_timestamp_seconds", domain=D, name=TLSA1, type="TLSA"),
                   f"{20 * 3600}x30"),
            series(lbl("mailtls_dnssec_signature_expiry_timestamp_seconds", domain=D, name=MX1, type="A"),
                   f"{10 * DAY}x30"),
        ],
        "alert_rule_test": [
            case("MailTLSRrsigExpiringSoon", "10m"),
            case("MailTLSRrsigExpiringSoon", "30m",
                 alert("MailTLSRrsigExpiringSoon", severity="critical", value=20 * 3600 - 1800,
                       domain=D, name=TLSA1, type="TLSA")),
            case("MailTLSRrsigExpiringSoon", "2h",
                 full_only(alert("MailTLSRrsigExpiringSoon", severity="warning", value=2 * DAY + 5 * 3600 - 7200,
                                 domain=D, name=D, type="MX"),
                           "a domain with nothing wrong exports only its earliest RRSIG expiry (the TLSA one)"),
                 alert("MailTLSRrsigExpiringSoon", severity="warning", value=20 * 3600 - 7200,
                       domain=D, name=TLSA1, type="TLSA"),
                 alert("MailTLSRrsigExpiringSoon", severity="critical", value=20 * 3600 - 7200,
                       domain=D, name=TLSA1, type="TLSA")),
        ],
    },
]

# ---------------------------------------------------------------------------------- SMTP
FILES["smtp"] = [
    {
        "interval": "1m",
        "input_series": [
            # A1: connects, no STARTTLS; A2: no connection at all; A3: fine
            series(lbl("mailtls_smtp_connect_success", domain=D, mx=MX1, address=A1), "1x60"),
            series(lbl("mailtls_smtp_starttls_success", domain=D, mx=MX1, address=A1), "0x60"),
            series(lbl("mailtls_smtp_connect_success", domain=D, mx=MX1, address=A2), "0x60"),
            series(lbl("mailtls_smtp_starttls_success", domain=D, mx=MX1, address=A2), "0x60"),
            series(lbl("mailtls_smtp_connect_success", domain=D, mx=MX2, address=A3), "1x60"),
            series(lbl("mailtls_smtp_starttls_success", domain=D, mx=MX2, address=A3), "1x60"),
            series(lbl("mailtls_smtp_phase_duration_seconds", domain=D, mx=MX1, address=A1, phase="tls_handshake"), "12x60"),
            series(lbl("mailtls_smtp_phase_duration_seconds", domain=D, mx=MX2, address=A3, phase="tls_handshake"), "2x60"),
            series(lbl("mailtls_smtp_phase_duration_seconds", domain=D, mx=MX2, address=A3, phase="connect"), "15x60"),
        ],
        "alert_rule_test": [
            case("MailTLSStarttlsUnavailable", "10m"),
            case("MailTLSStarttlsUnavailable", "16m",
                 alert("MailTLSStarttlsUnavailable", domain=D, mx=MX1, address=A1)),
            case("MailTLSStarttlsSlow", "20m"),
            case("MailTLSStarttlsSlow", "31m",
                 alert("MailTLSStarttlsSlow", value=12, domain=D, mx=MX1, address=A1, phase="tls_handshake")),
        ],
    },
]

# -------------------------------------------------------------------------- certificates
FILES["certificates"] = [
    {
        "interval": "5m",
        "input_series": [
            # A1: WebPKI-valid, 10 days left; A2: 10 days left but not WebPKI-valid (DANE-EE
            # self-signed); A3: valid with 30 days left
            series(lbl("mailtls_cert_not_after_timestamp_seconds", domain=D, mx=MX1, address=A1), f"{10 * DAY}x40"),
            series(lbl("mailtls_cert_pkix_valid", domain=D, mx=MX1, address=A1), "1x40"),
            series(lbl("mailtls_cert_not_after_timestamp_seconds", domain=D, mx=MX1, address=A2), f"{10 * DAY}x40"),
            series(lbl("mailtls_cert_pkix_valid", domain=D, mx=MX1, address=A2), "0x40"),
            series(lbl("mailtls_cert_not_after_timestamp_seconds", domain=D, mx=MX2, address=A3), f"{30 * DAY}x40"),
            series(lbl("mailtls_cert_pkix_valid", domain=D, mx=MX2, address=A3), "1x40"),
        ],
        "alert_rule_test": [
            case("MailTLSCertificateExpiringSoon", "30m"),
            case("MailTLSCertificateExpiringSoon", "2h",
                 alert("MailTLSCertificateExpiringSoon", value=10 * DAY - 7200, domain=D, mx=MX1, address=A1)),
        ],
    },
]

# ------------------------------------------------------------------------------- MTA-STS
B, C = "b.example", "c.example"
FILES["mtasts"] = [
    {
        "interval": "5m",
        "input_series": [
            # example.com: fetch fails; b.example: fetched, invalid; c.example: fine
            series(lbl("mailtls_mtasts_policy_fetch_success", domain=D), "0x40"),
            series(lbl("mailtls_mtasts_policy_valid", domain=D), "0x40"),
            series(lbl("mailtls_mtasts_policy_fetch_success", domain=B), "1x40"),
            series(lbl("mailtls_mtasts_policy_valid", domain=B), "0x40"),
            series(lbl("mailtls_mtasts_policy_fetch_success", domain=C), "1x40"),
            series(lbl("mailtls_mtasts_policy_valid", domain=C), "1x40"),
            series(lbl("mailtls_mtasts_policy_changed_without_id_change", domain=B), "0x40"),
            series(lbl("mailtls_mtasts_policy_changed_without_id_change", domain=C), "0 1x40"),
            series(lbl("mailtls_mtasts_policy_info", domain=C, id="20240101", mode="enforce"), "1x40"),
            series(lbl("mailtls_mtasts_mx_covered", domain=C, mx="mx1." + C), "1x40"),
            series(lbl("mailtls_mtasts_mx_covered", domain=C, mx="mx2." + C), "0x40"),
            # no policy in effect for example.com: not this alert's business
            series(lbl("mailtls_mtasts_mx_covered", domain=D, mx=MX1), "0x40"),
            series(lbl("mailtls_mtasts_status", domain=D, status="broken"), "1x40"),
            series(lbl("mailtls_mtasts_status", domain=D, status="enforced"), "0x40"),
            series(lbl("mailtls_mtasts_status", domain=C, status="broken"), "0x40"),
            series(lbl("mailtls_mtasts_status", domain=C, status="degraded"), "1x40"),
            series(lbl("mailtls_mtasts_policy_cert_not_after_timestamp_seconds", domain=C), f"{5 * DAY}x40"),
            series(lbl("mailtls_mtasts_policy_cert_not_after_timestamp_seconds", domain=B), f"{30 * DAY}x40"),
        ],
        "alert_rule_test": [
            case("MailTLSMtaStsPolicyUnreachable", "25m"),
            case("MailTLSMtaStsPolicyUnreachable", "30m", alert("MailTLSMtaStsPolicyUnreachable", domain=D)),
            case("MailTLSMtaStsPolicyInvalid", "25m"),
            case("MailTLSMtaStsPolicyInvalid", "30m", alert("MailTLSMtaStsPolicyInvalid", domain=B)),
            case("MailTLSMtaStsPolicyChangedWithoutIdChange", "10m"),
            case("MailTLSMtaStsPolicyChangedWithoutIdChange", "15m",
                 alert("MailTLSMtaStsPolicyChangedWithoutIdChange", domain=C)),
            case("MailTLSMtaStsMxNotCovered", "25m"),
            case("MailTLSMtaStsMxNotCovered", "30m",
                 alert("MailTLSMtaStsMxNotCovered", domain=C, mx="mx2." + C, mode="enforce")),
            case("MailTLSMtaStsEnforceBroken", "5m"),
            case("MailTLSMtaStsEnforceBroken", "10m", alert("MailTLSMtaStsEnforceBroken", domain=D, status="broken")),
            case("MailTLSMtaStsPolicyCertExpiringSoon", "55m"),
            case("MailTLSMtaStsPolicyCertExpiringSoon", "60m",
                 alert("MailTLSMtaStsPolicyCertExpiringSoon", value=5 * DAY - 3600, domain=C)),
        ],
    },
]

# ------------------------------------------------------------------------ sender caches
# Times are Unix seconds from the test's start (promtool's time() begins at 0).
FILES["sender_caches"] = [
    {
        "interval": "1m",
        "input_series": [
            # mx1 switched too fast at minute 5, safe from 1800 s on; mx2 rolled over correctly
            series(lbl("mailtls_dane_rollover_phase", domain=D, mx=MX1, phase="switched_too_fast"), "0x4 1x25 0x10"),
            series(lbl("mailtls_dane_rollover_phase", domain=D, mx=MX1, phase="steady"), "1x4 0x25 1x10"),
            series(lbl("mailtls_dane_rollover_safe_to_switch_timestamp_seconds", domain=D, mx=MX1), "_x5 1800x25"),
            series(lbl("mailtls_dane_rollover_phase", domain=D, mx=MX2, phase="next_safe"), "1x40"),
            series(lbl("mailtls_dane_rollover_safe_to_switch_timestamp_seconds", domain=D, mx=MX2), "600x40"),
            # b.example: mx2 not covered by the cached enforce policy until 2400 s
            series(lbl("mailtls_mtasts_cached_policy_mx_covered", domain=B, mx="mx1." + B), "1x40"),
            series(lbl("mailtls_mtasts_cached_policy_mx_covered", domain=B, mx="mx2." + B), "_x2 0x37"),
            series(lbl("mailtls_mtasts_cached_enforce_policy_expiry_timestamp_seconds", domain=B), "2400x40"),
            # c.example: TXT removed at minute 10 without mode none; expiry at 3000 s
            series(lbl("mailtls_mtasts_sender_cache_status", domain=C, status="enforce_cached"), "1x9 0x30"),
            series(lbl("mailtls_mtasts_sender_cache_status", domain=C, status="withdrawn_without_none"), "0x9 1x30"),
            series(lbl("mailtls_mtasts_cached_enforce_policy_expiry_timestamp_seconds", domain=C), "3000x40"),
            # example.com: downgraded to testing at minute 20; expiry at 4200 s
            series(lbl("mailtls_mtasts_sender_cache_status", domain=D, status="downgraded"), "0x19 1x20"),
            series(lbl("mailtls_mtasts_cached_enforce_policy_expiry_timestamp_seconds", domain=D), "4200x40"),
        ],
        "alert_rule_test": [
            case("MailTLSDaneRolloverTooFast", "4m"),
            case("MailTLSDaneRolloverTooFast", "10m",
                 alert("MailTLSDaneRolloverTooFast", value=1800 - 600, domain=D, mx=MX1)),
            case("MailTLSDaneRolloverTooFast", "31m"),
            case("MailTLSMtaStsCachedPolicyMxNotCovered", "1m"),
            case("MailTLSMtaStsCachedPolicyMxNotCovered", "20m",
                 alert("MailTLSMtaStsCachedPolicyMxNotCovered", value=2400 - 1200, domain=B, mx="mx2." + B)),
            case("MailTLSMtaStsWithdrawnWhileCached", "8m"),
            case("MailTLSMtaStsWithdrawnWhileCached", "10m",
                 alert("MailTLSMtaStsWithdrawnWhileCached", value=3000 - 600, domain=C)),
            case("MailTLSMtaStsDowngradedWhileCached", "19m"),
            case("MailTLSMtaStsDowngradedWhileCached", "30m",
                 alert("MailTLSMtaStsDowngradedWhileCached", value=4200 - 1800, domain=D)),
        ],
    },
]

# ------------------------------------------------------------------------------- TLS-RPT
GOOGLE = "Google Inc."
FILES["tlsrpt"] = [
    {
        "interval": "5m",
        "input_series": [
            # two replicas each received a report with failures at 1h; summed: 5
            series(lbl("mailtls_tlsrpt_report_failures_total", instance="exp-0:9925", policy_domain=D,
                       organization=GOOGLE, result_type="validation-failure"), "0x10 3x40"),
            series(lbl("mailtls_tlsrpt_report_failures_total", instance="exp-1:9925", policy_domain=D,
                       organization=GOOGLE, result_type="validation-failure"), "0x10 2x40"),
            # failures counted long ago, none new
            series(lbl("mailtls_tlsrpt_report_failures_total", instance="exp-0:9925", policy_domain=B,
                       organization=GOOGLE, result_type="starttls-not-supported"), "7x50"),
            series(lbl("mailtls_tlsrpt_record_valid", domain=D), "0x20"),
            series(lbl("mailtls_tlsrpt_record_valid", domain=B), "1x20"),
        ],
        "alert_rule_test": [
            case("MailTLSTlsRptFailuresReported", "50m"),
            case("MailTLSTlsRptFailuresReported", "100m",
                 alert("MailTLSTlsRptFailuresReported", value=5, policy_domain=D, organization=GOOGLE,
                       result_type="validation-failure")),
            case("MailTLSTlsRptRecordInvalid", "50m"),
            case("MailTLSTlsRptRecordInvalid", "60m", alert("MailTLSTlsRptRecordInvalid", domain=D)),
        ],
    },
]

# ------------------------------------------------------------------------------ exporter
E0 = {"instance": "exp-0:9925", "job": "mailtls-exporter"}
E1 = {"instance": "exp-1:9925", "job": "mailtls-exporter"}
FILES["exporter"] = [
    {
        "interval": "1m",
        "input_series": [
            series(lbl("mailtls_probe_success", domain=D, **E0), "0x30"),
            series(lbl("mailtls_probe_success", domain=B, **E0), "1x30"),
            series(lbl("mailtls_resolver_dnssec_validating", **E0), "0x30"),
            series(lbl("mailtls_resolver_dnssec_validating", **E1), "1x30"),
            series(lbl("up", **E0), "1x30"),
            series(lbl("up", **E1), "0x30"),
            series(lbl("up", instance="node:9100", job="node"), "0x30"),
            series(lbl("mailtls_scheduler_lag_seconds", **E0), "400x30"),
            series(lbl("mailtls_scheduler_lag_seconds", **E1), "100x30"),
            series(lbl("mailtls_config_last_reload_successful", **E0), "1x30"),
            series(lbl("mailtls_config_last_reload_successful", **E1), "1x9 0x40"),
        ],
        "alert_rule_test": [
            case("MailTLSProbeFailing", "14m"),
            case("MailTLSProbeFailing", "15m", alert("MailTLSProbeFailing", domain=D, **E0)),
            case("MailTLSResolverNotValidating", "9m"),
            case("MailTLSResolverNotValidating", "10m", alert("MailTLSResolverNotValidating", **E0)),
            case("MailTLSExporterDown", "4m"),
            case("MailTLSExporterDown", "5m", alert("MailTLSExporterDown", **E1)),
            case("MailTLSExporterFallingBehind", "14m"),
            case("MailTLSExporterFallingBehind", "15m",
                 alert("MailTLSExporterFallingBehind", value=400, **E0)),
            case("MailTLSConfigReloadFailed", "12m"),
            case("MailTLSConfigReloadFailed", "15m", alert("MailTLSConfigReloadFailed", **E1)),
        ],
    },
]

# ------------------------------------------------------------------------------ resolver
# The exporter's resolver stops validating DNSSEC at minute 5 (a wrong trust anchor, an upstream
# stripping DNSSEC). What the exporter then exports: mailtls_resolver_dnssec_validating 0, and
# per domain probe_success 0 with mailtls_probe_no_verdict{reason="resolver_not_validating"},
# while the verdict metrics keep the last values a validating resolver gave (a healthy DANE +
# MTA-STS domain here). Exactly one page: the resolver's. No domain alert, not even the
# probe-failure warning. A probe that timed out (another reason) still is a probe failure.
R = "sts.example"
T = "slow.example"
NV = "_x5 1x55"  # no sample before minute 5: the series appears with the first unjudged probe
FILES["resolver"] = [
    {
        "interval": "1m",
        "input_series": [
            series(lbl("mailtls_resolver_dnssec_validating", **E0), "1x4 0x55"),
            series(lbl("mailtls_probe_success", domain=D, **E0), "1x4 0x55"),
            series(lbl("mailtls_probe_success", domain=R, **E0), "1x4 0x55"),
            series(lbl("mailtls_probe_no_verdict", domain=D, reason="resolver_not_validating", **E0), NV),
            series(lbl("mailtls_probe_no_verdict", domain=R, reason="resolver_unreachable", **E0), NV),
            # the last verdicts, kept
            series(lbl("mailtls_dane_status", domain=D, status="valid", **E0), "1x59"),
            series(lbl("mailtls_dane_status", domain=D, status="broken", **E0), "0x59"),
            series(lbl("mailtls_dane_status", domain=D, status="bogus", **E0), "0x59"),
            series(lbl("mailtls_dane_match", domain=D, mx=MX1, address=A1, **E0), "1x59"),
            series(lbl("mailtls_dnssec_bogus", domain=D, name=D, type="MX", **E0), "0x59"),
            series(lbl("mailtls_dnssec_signature_expiry_timestamp_seconds", domain=D, name=D, type="MX", **E0),
                   f"{10 * DAY}x59"),
            series(lbl("mailtls_mtasts_status", domain=R, status="enforced", **E0), "1x59"),
            series(lbl("mailtls_mtasts_status", domain=R, status="broken", **E0), "0x59"),
            series(lbl("mailtls_mtasts_policy_fetch_success", domain=R, **E0), "1x59"),
            series(lbl("mailtls_mtasts_policy_valid", domain=R, **E0), "1x59"),
            series(lbl("mailtls_tlsrpt_record_valid", domain=R, **E0), "1x59"),
            # a domain added while the resolver was already broken: no verdict ever, only the
            # envelope (no state set at all)
            series(lbl("mailtls_probe_success", domain="new.example", **E0), "0x59"),
            series(lbl("mailtls_probe_no_verdict", domain="new.example", reason="resolver_not_validating", **E0),
                   "1x59"),
            # distractor: a probe that times out on another replica is a probe failure
            series(lbl("mailtls_probe_success", domain=T, **E1), "0x59"),
            series(lbl("mailtls_probe_no_verdict", domain=T, reason="timeout", **E1), "1x59"),
        ],
        "alert_rule_test": [
            case("MailTLSResolverNotValidating", "14m"),
            case("MailTLSResolverNotValidating", "15m", alert("MailTLSResolverNotValidating", **E0)),
            case("MailTLSProbeFailing", "14m"),
            case("MailTLSProbeFailing", "15m", alert("MailTLSProbeFailing", domain=T, **E1)),
            case("MailTLSProbeFailing", "59m", alert("MailTLSProbeFailing", domain=T, **E1)),
        ] + [
            case(name, "59m") for name in (
                "MailTLSDaneBroken", "MailTLSDaneDegraded", "MailTLSTlsaNotUpdatedAfterRenewal",
                "MailTLSDnssecBogus", "MailTLSRrsigExpiringSoon", "MailTLSMtaStsEnforceBroken",
                "MailTLSMtaStsPolicyUnreachable", "MailTLSMtaStsPolicyInvalid",
                "MailTLSTlsRptRecordInvalid")
        ],
    },
]


class Dumper(yaml.SafeDumper):
    pass


def str_presenter(dumper, data):
    return dumper.represent_scalar("tag:yaml.org,2002:str", data)


def for_profile(test):
    """The test as the profile's exporter would feed it: lean series, lean expectations."""
    for c in test["alert_rule_test"]:
        kept = []
        for a in c["exp_alerts"]:
            why = a.pop("full_only", None)
            if why is None or ARGS.profile == "full":
                kept.append(a)
            else:
                print(f"lean: {c['alertname']} {a['exp_labels']} not expected: {why}")
        c["exp_alerts"] = kept
    if ARGS.profile == "lean":
        test["input_series"] = lean_series.lean_series(test["input_series"])


def main():
    covered = set()
    os.makedirs(OUT, exist_ok=True)
    for name, tests in FILES.items():
        for t in tests:
            t["alert_rule_test"] = [c for c in t["alert_rule_test"] if c["alertname"] in RULES_BY_NAME]
            for_profile(t)
            for c in t["alert_rule_test"]:
                covered.add(c["alertname"])
        tests = [t for t in tests if t["alert_rule_test"]]
        if not tests:
            continue
        doc = {
            "rule_files": [os.path.relpath(RULES, OUT)],
            "evaluation_interval": "1m",
            "tests": tests,
        }
        path = os.path.join(OUT, f"{name}.test.yml")
        with open(path, "w") as f:
            f.write(f"# Generated by tests/ops/gen_alert_tests.py{' --profile lean' if ARGS.profile == 'lean' else ''} "
                    "from its hand-written scenarios; edit there.\n")
            yaml.dump(doc, f, Dumper=Dumper, sort_keys=False, width=100000, allow_unicode=True)
        print("wrote", os.path.relpath(path, ROOT))
    missing = set(RULES_BY_NAME) - covered
    if missing:
        raise SystemExit(f"alerts without a test: {sorted(missing)}")


if __name__ == "__main__":
    main()
