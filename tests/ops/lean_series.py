"""The lean metrics profile (docs/metrics.md, "Profiles") applied to promtool input series.

gen_alert_tests.py --profile lean runs every hand-written alert scenario again with the series
a lean-profile exporter would have exported instead: at each evaluation step, a domain that
shows nothing wrong keeps only the lean families (the earliest RRSIG expiry, the TLS handshake
phase), state sets keep only their current state, and a domain with something wrong keeps
everything. The model mirrors exporter/exposition/lean_profile.cc, judged from the series
(what a scenario has) instead of from a probe report; the C++ side is tested on reports in
tests/unit/exporter/lean_profile_test.cc.
"""
import re

STATE_SETS = {
    "mailtls_dane_status", "mailtls_mtasts_status", "mailtls_mtasts_sender_cache_status",
    "mailtls_dane_rollover_phase",
}

# Kept for a domain with nothing wrong (kLeanFamilies in lean_profile.cc).
LEAN_FAMILIES = STATE_SETS | {
    "mailtls_probe_success", "mailtls_probe_no_verdict", "mailtls_probe_duration_seconds",
    "mailtls_probe_timestamp_seconds", "mailtls_mx_info", "mailtls_dane_rollover_ready",
    "mailtls_dane_rollover_safe_to_switch_timestamp_seconds",
    "mailtls_dnssec_signature_expiry_timestamp_seconds", "mailtls_cert_not_after_timestamp_seconds",
    "mailtls_cert_pkix_valid", "mailtls_smtp_phase_duration_seconds", "mailtls_mtasts_policy_info",
    "mailtls_mtasts_policy_cert_not_after_timestamp_seconds", "mailtls_tlsrpt_record_valid",
}

# Per-domain families outside LEAN_FAMILIES, present only while the domain has something wrong.
DETAIL_FAMILIES = {
    "mailtls_dnssec_secure", "mailtls_dnssec_bogus", "mailtls_smtp_connect_success",
    "mailtls_smtp_starttls_offered", "mailtls_smtp_starttls_success", "mailtls_tls_info",
    "mailtls_cert_not_before_timestamp_seconds", "mailtls_cert_info", "mailtls_dane_tlsa_records",
    "mailtls_dane_tlsa_usable_records", "mailtls_dane_tlsa_rrset_first_seen_timestamp_seconds",
    "mailtls_dane_tlsa_record_match", "mailtls_dane_match", "mailtls_dane_key_type_match",
    "mailtls_dane_tlsa_original_ttl_seconds", "mailtls_mtasts_txt_valid",
    "mailtls_mtasts_policy_fetch_success", "mailtls_mtasts_policy_valid",
    "mailtls_mtasts_policy_max_age_seconds", "mailtls_mtasts_policy_id_last_change_timestamp_seconds",
    "mailtls_mtasts_policy_changed_without_id_change", "mailtls_mtasts_mx_covered",
    "mailtls_mtasts_cached_enforce_policy_expiry_timestamp_seconds",
    "mailtls_mtasts_cached_policy_mx_covered", "mailtls_tlsrpt_rua_info",
}

# (family, label, values) whose series at value 1 mean something is wrong (needs_detail()).
BAD_STATES = {
    "mailtls_dane_status": ("status", {"degraded", "broken", "bogus"}),
    "mailtls_mtasts_status": ("status", {"degraded", "broken", "invalid"}),
    "mailtls_mtasts_sender_cache_status": ("status", {"mx_not_covered", "withdrawn_without_none", "downgraded"}),
    "mailtls_dane_rollover_phase": ("phase", {"switched_too_fast"}),
}
# 1/0 families where this value means something is wrong.
BAD_VALUES = {
    "mailtls_dnssec_bogus": 1, "mailtls_smtp_connect_success": 0, "mailtls_smtp_starttls_success": 0,
    "mailtls_dane_match": 0, "mailtls_dane_key_type_match": 0, "mailtls_mtasts_mx_covered": 0,
    "mailtls_mtasts_cached_policy_mx_covered": 0, "mailtls_mtasts_policy_fetch_success": 0,
    "mailtls_mtasts_policy_valid": 0, "mailtls_mtasts_policy_changed_without_id_change": 1,
}

SERIES = re.compile(r"^([a-zA-Z_:][a-zA-Z0-9_:]*)\{(.*)\}$")
LABEL = re.compile(r'([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"')


def parse_series(text):
    m = SERIES.match(text)
    if not m:
        raise SystemExit(f"cannot parse series {text!r}")
    return m.group(1), dict(LABEL.findall(m.group(2)))


def expand(values):
    """promtool's expanding notation ('1x3', '_x2', '0 1x40') -> one value (or None) per step."""
    out = []
    for item in values.split():
        m = re.fullmatch(r"(_|-?[0-9.e+]+)(?:x([0-9]+))?", item)
        if not m:
            raise SystemExit(f"series values {values!r}: {item!r} is not understood here")
        v, n = m.group(1), m.group(2)
        if v == "_":
            out += [None] * (int(n) if n else 1)
        else:
            out += [float(v)] * (int(n) + 1 if n else 1)
    return out


def compress(steps):
    """The inverse of expand(): runs of one value as 'vxN', runs of blanks as '_xN'. A series
    that goes away is marked stale at its first missing step, as Prometheus marks a series that
    a scrape no longer has (a blank alone would keep its last value for the 5 min lookback)."""
    parts, i = [], 0
    while i < len(steps):
        j = i
        while j + 1 < len(steps) and steps[j + 1] == steps[i]:
            j += 1
        run = j - i + 1
        if steps[i] is None and i > 0:
            parts.append("stale" + (f" _x{run - 1}" if run > 2 else " _" if run == 2 else ""))
        elif steps[i] is None:
            parts.append(f"_x{run}" if run > 1 else "_")
        else:
            v = steps[i]
            text = str(int(v)) if float(v).is_integer() else repr(v)
            parts.append(f"{text}x{run - 1}" if run > 1 else text)
        i = j + 1
    return " ".join(parts)


def _wrong_at(parsed, step):
    """Domains with something wrong at `step`, from the series present then."""
    wrong = set()
    unmatched = {}  # (domain, mx) -> {record: matched anywhere}
    for (name, labels), steps in parsed:
        if step >= len(steps) or steps[step] is None or "domain" not in labels:
            continue
        v, d = steps[step], labels["domain"]
        if name in BAD_STATES:
            label, bad = BAD_STATES[name]
            if v == 1 and labels.get(label) in bad:
                wrong.add(d)
        elif name in BAD_VALUES and v == BAD_VALUES[name]:
            wrong.add(d)
        elif name == "mailtls_dane_tlsa_record_match":
            record = tuple(labels.get(k) for k in ("usage", "selector", "matching_type", "data"))
            records = unmatched.setdefault((d, labels.get("mx")), {})
            records[record] = records.get(record, False) or v == 1
    for (d, _), records in unmatched.items():
        if sum(1 for matched in records.values() if not matched) > 1:  # stale, F2
            wrong.add(d)
    return wrong


def lean_series(input_series):
    """input_series: [{"series": text, "values": notation}] of one promtool test -> the same
    list as a lean-profile exporter would have exported it (series never present dropped)."""
    parsed = [(parse_series(s["series"]), expand(s["values"])) for s in input_series]
    length = max((len(steps) for _, steps in parsed), default=0)
    wrong = [_wrong_at(parsed, step) for step in range(length)]
    out = []
    for (s, ((name, labels), steps)) in zip(input_series, parsed):
        domain = labels.get("domain")
        if domain is None or not name.startswith("mailtls_") or not (name in LEAN_FAMILIES or name in DETAIL_FAMILIES):
            out.append(s)  # the exporter's own series, the report counters: the same in both
            continue
        lean = []
        for step, v in enumerate(steps):
            keep = v is not None
            if keep and name in STATE_SETS:
                keep = v == 1
            elif keep and domain not in wrong[step]:
                if name not in LEAN_FAMILIES:
                    keep = False
                elif name == "mailtls_smtp_phase_duration_seconds":
                    keep = labels.get("phase") == "tls_handshake"
                elif name == "mailtls_dnssec_signature_expiry_timestamp_seconds":
                    keep = _is_earliest_expiry(parsed, domain, step, s["series"])
            lean.append(v if keep else None)
        if any(v is not None for v in lean):
            out.append({"series": s["series"], "values": compress(lean)})
    return out


def _is_earliest_expiry(parsed, domain, step, text):
    best = None
    for (name, labels), steps in parsed:
        if (name == "mailtls_dnssec_signature_expiry_timestamp_seconds" and labels.get("domain") == domain
                and step < len(steps) and steps[step] is not None):
            if best is None or steps[step] < best[0]:
                best = (steps[step], labels)
    name, labels = parse_series(text)
    return best is not None and best[1] == labels
