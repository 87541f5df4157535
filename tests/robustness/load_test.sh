#!/usr/bin/env bash
# Load on the exporter's HTTP side while it probes the world: wrk against GET /metrics and
# POST /tlsrpt (every request a new report, so each one is parsed, counted and saved), then
# RSS before, right after and some time after the load. Prints figures and asserts no speed;
# it fails (exit 1) on any non-2xx answer or socket error, an exporter that died, an error in
# its log, a corrupt state file, or memory that keeps growing: VmRSS after the idle period more
# than 25 % + 16 MiB above VmRSS after the first round. Needs wrk (Debian package wrk) and, for
# probes to run, a running tests/world; exit 77 (skipped) without wrk.
#   tests/robustness/load_test.sh <mailtls_exporter> [duration-seconds] [connections]
# Environment: MAILTLS_WORLD_DIR (default <repo>/.world), SETTLE (seconds after the load
# before the last RSS reading, default 30), ROUNDS (load rounds, default 2: a leak shows as
# RSS still growing in round 2).
set -euo pipefail
exporter=${1:?usage: $0 <mailtls_exporter> [seconds] [connections]}
duration=${2:-30}
connections=${3:-32}
settle=${SETTLE:-30}
here=$(cd "$(dirname "$0")" && pwd)
world=${MAILTLS_WORLD_DIR:-$here/../../.world}
command -v wrk >/dev/null || { echo "wrk not installed (apt-get install wrk)"; exit 77; }

work=$(mktemp -d /tmp/mailtls_load.XXXXXX)
cleanup() {
  if [[ -n ${pid:-} ]] && kill -0 "$pid" 2>/dev/null; then kill -TERM "$pid"; wait "$pid" || true; fi
  rm -rf "$work"
}
trap cleanup EXIT

if [[ -f $world/exporter.yaml ]]; then
  # The world's config, probing every 15 s, with the TLS-RPT receiver on.
  sed -e 's/^  interval: .*/  interval: 15s/' -e 's/^  timeout: .*/  timeout: 10s/' \
    "$world/exporter.yaml" > "$work/exporter.yaml"
  echo "probing the world in $world"
else
  echo "no world at $world: load without probes"
  printf 'resolver:\n  use_resolv_conf: false\n  root_trust_anchor_file: ""\n  forwarders: ["127.0.0.1@9"]\n  lookup_timeout: 1s\ndomains: []\n' > "$work/exporter.yaml"
fi
printf 'tlsrpt_receiver:\n  enabled: true\n' >> "$work/exporter.yaml"

port=$(python3 -c 'import socket;s=socket.socket();s.bind(("127.0.0.1",0));print(s.getsockname()[1])')
"$exporter" --config.file "$work/exporter.yaml" --web.listen-address "127.0.0.1:$port" \
  --storage.path "$work/state" --log.level warn > "$work/exporter.log" 2>&1 &
pid=$!
for _ in $(seq 300); do
  curl -sf "http://127.0.0.1:$port/-/healthy" >/dev/null && break
  sleep 0.2
done

status() {  # label: VmRSS VmHWM threads fds
  local rss hwm thr fds
  rss=$(awk '/^VmRSS/{print $2}' /proc/$pid/status)
  hwm=$(awk '/^VmHWM/{print $2}' /proc/$pid/status)
  thr=$(awk '/^Threads/{print $2}' /proc/$pid/status)
  fds=$(ls /proc/$pid/fd | wc -l)
  printf '%-28s VmRSS %6d kB  VmHWM %6d kB  threads %3d  fds %4d\n' "$1" "$rss" "$hwm" "$thr" "$fds"
}
probes() { curl -s "http://127.0.0.1:$port/metrics" | grep -c '^mailtls_probe_success{' || true; }

sleep 20  # the first probes of every domain
status "before load (after 20 s):"
echo "domains with a probe result: $(probes)"

report=$(sed -e 's/"report-id": "[^"]*"/"report-id": "@ID@"/' "$here/../data/tlsrpt/rfc8460-appendix-b.json" \
  | python3 -c 'import json,sys;print(json.dumps(sys.stdin.read()))')
cat > "$work/post.lua" <<LUA
local n = 0
local tid = 0
local body = $report
local threads = 0
setup = function(thread)
  threads = threads + 1
  thread:set("tid", threads)
end
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/tlsrpt+json"
request = function()
  n = n + 1
  local id = string.format("load-%d-%d-%d", tid, os.time(), n)
  return wrk.format(nil, "/tlsrpt", nil, (body:gsub("@ID@", id)))
end
local codes = {}
response = function(status, headers, body)
  codes[status] = (codes[status] or 0) + 1
end
done = function(summary, latency, requests)
  for k, v in pairs(codes) do io.write(string.format("  status %d: %d (last thread)\n", k, v)) end
end
LUA

failures=()
rss_kb() { awk '/^VmRSS/{print $2}' /proc/$pid/status; }
for round in $(seq "${ROUNDS:-2}"); do
echo
echo "== round $round: GET /metrics: wrk -t2 -c$connections -d${duration}s"
wrk -t2 -c"$connections" -d"${duration}s" --latency "http://127.0.0.1:$port/metrics" > "$work/wrk.out"
grep -E 'Latency|Req/Sec|requests in|Requests/sec|Non-2xx|Socket errors|50%|99%' "$work/wrk.out"
grep -qE 'Non-2xx|Socket errors' "$work/wrk.out" && failures+=("round $round GET /metrics: $(grep -E 'Non-2xx|Socket errors' "$work/wrk.out" | tr -s ' ' | tr '\n' ';')")
status "after /metrics load $round:"
echo
echo "== round $round: POST /tlsrpt (new report each): wrk -t2 -c$connections -d${duration}s"
wrk -t2 -c"$connections" -d"${duration}s" --latency -s "$work/post.lua" "http://127.0.0.1:$port" > "$work/wrk.out"
grep -E 'Latency|Req/Sec|requests in|Requests/sec|Non-2xx|Socket errors|50%|99%|status' "$work/wrk.out"
grep -qE 'Non-2xx|Socket errors' "$work/wrk.out" && failures+=("round $round POST /tlsrpt: $(grep -E 'Non-2xx|Socket errors' "$work/wrk.out" | tr -s ' ' | tr '\n' ';')")
status "after /tlsrpt load $round:"
[[ $round == 1 ]] && rss_after_first=$(rss_kb)
echo "reports counted: $(curl -s "http://127.0.0.1:$port/metrics" | awk '/^mailtls_tlsrpt_reports_total/{s+=$NF} END{print s+0}')"
done
echo "state.json: $(stat -c %s "$work/state/state.json") bytes; corrupt files: $(ls "$work/state" | grep -c corrupt || true)"
sleep "$settle"
status "after ${settle} s idle:"
echo "domains with a probe result: $(probes)"
echo "exporter log (errors): $(grep -c 'level=error' "$work/exporter.log" || true) lines"
grep 'level=error' "$work/exporter.log" | sort | uniq -c | sort -rn | head -5 || true

corrupt=$(ls "$work/state" | grep -c corrupt || true)
errors=$(grep -c 'level=error' "$work/exporter.log" || true)
rss_end=$(rss_kb)
kill -0 "$pid" 2>/dev/null || failures+=("the exporter died")
((corrupt == 0)) || failures+=("$corrupt corrupt state files")
((errors == 0)) || failures+=("$errors error lines in the exporter log")
limit=$((rss_after_first * 5 / 4 + 16384))
((rss_end <= limit)) || failures+=("VmRSS ${rss_end} kB after the idle period > ${limit} kB (125 % of ${rss_after_first} kB after round 1, + 16 MiB)")
echo
if ((${#failures[@]})); then
  printf 'FAIL: %s\n' "${failures[@]}"
  exit 1
fi
echo "ok: no non-2xx answers or socket errors, alive, no error logged, no corrupt state, VmRSS ${rss_end} kB after idle (round 1: ${rss_after_first} kB)"
