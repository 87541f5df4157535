#!/usr/bin/env python3
"""Reads the webhook receiver's log (one JSON line per Alertmanager notification).

usage:
  pages.py seen <log> <status> [--after <unix time>] [label=value ...]
      exit 0 and print the receive time of the first notification (received after --after)
      that carries an alert with that status ("firing"/"resolved") and all those labels;
      exit 1 if there is none.
  pages.py list <log>
      one line per alert in every notification: receive time, alert status, labels.
  pages.py set <log> [label=value ...]
      the distinct "alertname status severity" of the alerts with all those labels, sorted.
Python standard library only.
"""
import json
import sys


def notifications(path):
    try:
        with open(path, encoding="utf-8") as f:
            for line in f:
                line = line.strip()
                if line:
                    yield json.loads(line)
    except FileNotFoundError:
        return


def alerts(path):
    for n in notifications(path):
        if "error" in n:
            yield n["received"], "receiver-error", {"error": n["error"]}
            continue
        for a in n.get("body", {}).get("alerts", []):
            yield n["received"], a.get("status"), a.get("labels", {})


def main(argv):
    if len(argv) >= 2 and argv[0] == "list":
        for received, status, labels in alerts(argv[1]):
            text = ",".join(f'{k}="{v}"' for k, v in sorted(labels.items()))
            print(f"{received:.3f} {status} {{{text}}}")
        return 0
    if len(argv) >= 2 and argv[0] == "set":
        want = dict(kv.split("=", 1) for kv in argv[2:])
        seen = {(labels.get("alertname", "-"), status, labels.get("severity", "-"))
                for _, status, labels in alerts(argv[1])
                if all(labels.get(k) == v for k, v in want.items())}
        for entry in sorted(seen):
            print(*entry)
        return 0
    if len(argv) >= 3 and argv[0] == "seen":
        path, want_status, rest = argv[1], argv[2], argv[3:]
        after = 0.0
        if len(rest) >= 2 and rest[0] == "--after":
            after, rest = float(rest[1]), rest[2:]
        want = dict(kv.split("=", 1) for kv in rest)
        for received, status, labels in alerts(path):
            if received >= after and status == want_status and all(labels.get(k) == v for k, v in want.items()):
                print(f"{received:.3f}")
                return 0
        return 1
    sys.stderr.write(__doc__)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
