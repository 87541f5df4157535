#!/usr/bin/env bash
# Runs every libFuzzer target (or the ones named) for SECONDS each, PARALLEL at a time (each one
# job), and prints a table of executions, exec/s and coverage from libFuzzer's last status line.
#   tests/fuzz/run_fuzzers.sh <build-dir> <seconds> [target...]
# Environment: PARALLEL (default 2), WORK (default <build-dir>/fuzz-work: the growing corpora,
# logs and crash-* artifacts; the seed corpora in tests/fuzz/corpus are only read).
# Exit status: 0 when no target crashed, 1 otherwise (the crash files are listed).
set -u
if [[ $# -lt 2 ]]; then
  echo "usage: $0 <build-dir> <seconds> [target...]" >&2
  exit 2
fi
build=$(cd "$1" && pwd)
seconds=$2
shift 2
here=$(cd "$(dirname "$0")" && pwd)
parallel=${PARALLEL:-2}
work=${WORK:-$build/fuzz-work}
mkdir -p "$work"

targets=("$@")
if [[ ${#targets[@]} -eq 0 ]]; then
  for d in "$here"/corpus/*/; do targets+=("$(basename "$d")"); done
fi

run_one() {
  local t=$1 bin
  bin=$(find "$build" -type f -name "$t" -perm -u+x | head -1)
  if [[ -z $bin ]]; then
    echo "$t: binary not found under $build" > "$work/$t.log"
    return
  fi
  mkdir -p "$work/$t/corpus" "$work/$t/artifacts"
  # -rss_limit_mb: the parsers have byte caps far below this; hitting it is a finding.
  # In-process (no -jobs: libFuzzer's job mode writes fuzz-<n>.log into the working directory,
  # which parallel targets would share). The log is appended across runs; the table reads the
  # last run's final lines.
  (cd "$work/$t" && "$bin" "$work/$t/corpus" "$here/corpus/$t" -max_total_time="$seconds" \
    -rss_limit_mb=2048 -timeout=10 -max_len=65536 -print_final_stats=1 \
    -artifact_prefix="$work/$t/artifacts/" >> "$work/$t.log" 2>&1)
  echo "$?" > "$work/$t.rc"
  echo "== run of ${seconds}s ended $(date -u +%FT%TZ) rc $(cat "$work/$t.rc")" >> "$work/$t.log"
}

running=0
for t in "${targets[@]}"; do
  run_one "$t" &
  running=$((running + 1))
  if [[ $running -ge $parallel ]]; then
    wait -n
    running=$((running - 1))
  fi
done
wait

status=0
printf '%-22s %12s %9s %7s %8s %6s %s\n' target runs exec/s cov ft corpus result
for t in "${targets[@]}"; do
  log=$work/$t.log
  last=$(grep -E '^#[0-9]+' "$log" 2>/dev/null | tail -1)
  runs=$(grep -oP 'stat::number_of_executed_units: +\K[0-9]+' "$log" 2>/dev/null | tail -1)
  eps=$(grep -oP 'stat::average_exec_per_sec: +\K[0-9]+' "$log" 2>/dev/null | tail -1)
  cov=$(grep -oP 'cov: \K[0-9]+' <<< "$last")
  ft=$(grep -oP 'ft: \K[0-9]+' <<< "$last")
  corp=$(grep -oP 'corp: \K[0-9]+' <<< "$last")
  rc=$(cat "$work/$t.rc" 2>/dev/null || echo "?")
  result=ok
  if [[ $rc != 0 ]] || ls "$work/$t/artifacts/" 2>/dev/null | grep -q .; then
    result="FAIL rc=$rc $(ls "$work/$t/artifacts/" 2>/dev/null | tr '\n' ' ')"
    status=1
  fi
  printf '%-22s %12s %9s %7s %8s %6s %s\n' "$t" "${runs:-?}" "${eps:-?}" "${cov:-?}" "${ft:-?}" \
    "${corp:-?}" "$result"
done
exit $status
