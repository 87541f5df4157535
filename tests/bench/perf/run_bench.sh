#!/bin/bash
# Side-by-side benchmark: mailtls_exporter vs prometheus-blackbox-exporter (tcp STARTTLS module)
# vs a plain OpenSSL STARTTLS loop, on N loopback MX addresses of our own, plus the exporter at
# scale (1,000 and 10,000 configured domains, one scheduled round). Loopback only; every
# process it starts is stopped by PID on exit. Does not touch tests/world (its ports differ).
#
#   run_bench.sh [options]
#     --build DIR        build dir with mailtls_exporter, bench_smtp_server, starttls_baseline
#                        (configured with -DMAILTLS_BENCH=ON; default <repo>/build-bench)
#     --dir DIR          run directory (default /tmp/mailtls-bench)
#     --sizes "100 1000" numbers of MX addresses for the side-by-side part
#     --rounds 3         measured rounds per prober and size (alternating A B C A B C ...)
#     --concurrency 4    parallel probes for all three probers
#     --scale "1000 10000"  configured-domain counts for the scheduled-round part ("" skips)
#     --scale-limit 600  seconds a scheduled round may take before it is cut off
#     --listeners N      number of MX listeners (default: the largest of --sizes)
#     --profile          also run callgrind on `check` of a few domains
#     --ttl 1            TTL of every record in the benchmark zone (1: no DNS cache help)
#     --scrape-gzip      scrape /metrics during the scale rounds with Accept-Encoding: gzip, as
#                        Prometheus does (default: uncompressed)
#     --no-quiet         skip the second ("quiet") scale round and the scrapes of its end state
#     --metrics-profile P  metrics.profile of the exporter (full or lean; not given: the config has
#                        no metrics section, so an exporter older than the option runs too)
#     --key-type-recheck D  smtp.key_type_recheck_interval of the exporter (e.g. 0: the
#                        key-type-limited handshake at every probe; not given: the default)
#     --no-sharing       smtp.share_observations: false (each probe opens its own sessions and
#                        the observation cache holds nothing)
#     --perf             perf-record (cpu-clock, call graphs) the exporter during one extra,
#                        unmeasured side-by-side round per size and during each quiet scale
#                        round; the top entries go to <dir>/prof/perf-*.txt
#
# Output: figures on stdout and in <dir>/results.txt (raw per-round lines in <dir>/rounds.tsv).
# Run as root (port 25).
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO=$(cd "$HERE/../../.." && pwd)
BUILD=$REPO/build-bench
DIR=/tmp/mailtls-bench
SIZES="100 1000"
ROUNDS=3
CONC=4
SCALE="1000 10000"
SCALE_LIMIT=600
PROFILE=0
TTL=1
LISTENERS=""
SCRAPE_GZIP=0
PERF=0
METRICS_PROFILE=""
KEY_TYPE_RECHECK=""
SHARING=""
QUIET=1

while (($#)); do
  case $1 in
    --build) BUILD=$2; shift 2 ;;
    --dir) DIR=$2; shift 2 ;;
    --sizes) SIZES=$2; shift 2 ;;
    --rounds) ROUNDS=$2; shift 2 ;;
    --concurrency) CONC=$2; shift 2 ;;
    --scale) SCALE=$2; shift 2 ;;
    --scale-limit) SCALE_LIMIT=$2; shift 2 ;;
    --listeners) LISTENERS=$2; shift 2 ;;
    --profile) PROFILE=1; shift ;;
    --ttl) TTL=$2; shift 2 ;;
    --scrape-gzip) SCRAPE_GZIP=1; shift ;;
    --perf) PERF=1; shift ;;
    --metrics-profile) METRICS_PROFILE=$2; shift 2 ;;
    --key-type-recheck) KEY_TYPE_RECHECK=$2; shift 2 ;;
    --no-sharing) SHARING=false; shift ;;
    --no-quiet) QUIET=0; shift ;;
    *) echo "unknown option $1" >&2; exit 2 ;;
  esac
done

DNS_ADDR=127.0.0.1
DNS_PORT=5399          # the world's Knot is on 5300
BB_LISTEN=127.0.0.1:39115
EX_LISTEN=127.0.0.1:39116
ZONE=bench.test
BUILD=$(cd "$BUILD" && pwd)
EXPORTER=$BUILD/exporter/mailtls_exporter
SERVER=$BUILD/tests/bench/bench_smtp_server
BASELINE=$BUILD/tests/bench/starttls_baseline
BLACKBOX=/usr/bin/prometheus-blackbox-exporter
CLK_TCK=$(getconf CLK_TCK)

log() { echo "bench: $*" >&2; }
die() { echo "bench: error: $*" >&2; exit 1; }
for f in "$EXPORTER" "$SERVER" "$BASELINE" "$BLACKBOX"; do [[ -x $f ]] || die "missing $f"; done

max_of() { local m=0 x; for x in "$@"; do ((x > m)) && m=$x; done; echo "$m"; }
NMAX=${LISTENERS:-$(max_of $SIZES)}
((NMAX > 0)) || die "no listeners: give --sizes or --listeners"
DMAX=$(max_of $SIZES $SCALE)

mkdir -p "$DIR"
DIR=$(cd "$DIR" && pwd)
rm -rf "${DIR:?}"/{pki,knot,ex,bb,scale,prof}
mkdir -p "$DIR"/{pki,knot,ex,bb,scale,prof}
RESULTS=$DIR/results.txt
ROUNDS_TSV=$DIR/rounds.tsv
: >"$RESULTS"
printf 'size\tround\tprober\tprobes\tok\twall_s\tcpu_s\n' >"$ROUNDS_TSV"
say() { echo "$*" | tee -a "$RESULTS"; }

# --- processes we start, stopped by PID -------------------------------------------------------
PIDS=()
stop_pid() {  # pid
  local pid=$1 i
  kill -0 "$pid" 2>/dev/null || return 0
  kill -TERM "$pid" 2>/dev/null || true
  for ((i = 0; i < 100; i++)); do kill -0 "$pid" 2>/dev/null || return 0; sleep 0.1; done
  kill -KILL "$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
}
cleanup() {
  local p
  for p in "${PIDS[@]}"; do stop_pid "$p"; done
}
trap cleanup EXIT
trap 'exit 130' INT TERM

wait_for() {  # what seconds command...
  local what=$1 secs=$2
  shift 2
  local deadline=$((SECONDS + secs))
  until "$@"; do
    ((SECONDS < deadline)) || die "timed out after ${secs}s waiting for $what"
    sleep 0.2
  done
}

cpu_seconds() {  # pid -> utime+stime in seconds (fields 14, 15 of /proc/pid/stat)
  awk -v t="$CLK_TCK" '{ sub(/^.*\) /, ""); printf "%.2f", ($12 + $13) / t }' "/proc/$1/stat"
}
hwm_kb() { awk '/^VmHWM:/ {print $2}' "/proc/$1/status"; }
# Peak and current RSS (kB), anonymous and file-backed, and threads of a process.
mem_line() { awk '/^(VmHWM|VmRSS|RssAnon|RssFile|Threads):/ {printf "%s %s ", $1, $2}' "/proc/$1/status"; }
# --perf: sample the exporter (pid) until perf_stop; the report's top entries go to NAME.txt.
PERF_PID=""
perf_start() {  # pid name
  ((PERF)) || return 0
  PERF_NAME=$DIR/prof/$2
  perf record -q -e cpu-clock -F 499 --call-graph dwarf,16384 -p "$1" -o "$PERF_NAME.data" >/dev/null 2>&1 &
  PERF_PID=$!
  PIDS+=($PERF_PID)
  sleep 0.5
}
perf_stop() {
  [[ -n $PERF_PID ]] || return 0
  kill -INT "$PERF_PID" 2>/dev/null || true
  wait "$PERF_PID" 2>/dev/null || true
  PERF_PID=""
  # head closes the pipes early: no pipefail in here.
  ( set +e +o pipefail
    perf report -i "$PERF_NAME.data" --no-children --sort dso,symbol --stdio -g none 2>/dev/null |
      grep -E '^ +[0-9]' | head -n 40
    echo
    echo "by library:"
    perf report -i "$PERF_NAME.data" --no-children --sort dso --stdio -g none 2>/dev/null |
      grep -E '^ +[0-9]' | head -n 15
    echo
    echo "inclusive (children):"
    perf report -i "$PERF_NAME.data" --children --sort symbol --stdio -g none 2>/dev/null |
      grep -E '^ +[0-9]' | head -n 60
  ) >"$PERF_NAME.txt"
}
# The bench server's handshake count, once it has settled (it rewrites the file every 0.5 s).
server_handshakes() { sleep 1.2; cat "$HANDSHAKES" 2>/dev/null || echo 0; }
server_connections() { cat "$CONNECTIONS" 2>/dev/null || echo 0; }  # after server_handshakes

address_of() {  # 1-based index -> 127.0.(9 + (i-1)/250).(1 + (i-1)%250)
  echo "127.0.$((9 + ($1 - 1) / 250)).$((1 + ($1 - 1) % 250))"
}

# --- PKI: one CA, one leaf key shared by every listener (TLSA 3 1 1 of its SPKI) --------------
PKI=$DIR/pki
openssl genpkey -quiet -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$PKI/ca.key"
openssl req -x509 -new -key "$PKI/ca.key" -subj "/O=mailtls bench/CN=bench CA" -days 30 -sha256 \
  -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign" \
  -out "$PKI/ca.pem" 2>/dev/null
openssl genpkey -quiet -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$PKI/mx.key"
openssl req -new -key "$PKI/mx.key" -subj "/CN=mx.$ZONE" -out "$PKI/mx.csr" 2>/dev/null
openssl x509 -req -in "$PKI/mx.csr" -CA "$PKI/ca.pem" -CAkey "$PKI/ca.key" -CAcreateserial -days 30 \
  -sha256 -out "$PKI/mx.pem" 2>/dev/null \
  -extfile <(printf 'basicConstraints=critical,CA:FALSE\nkeyUsage=critical,digitalSignature\nextendedKeyUsage=serverAuth\nsubjectAltName=DNS:mx.%s,DNS:*.%s\n' "$ZONE" "$ZONE")
cat "$PKI/mx.pem" "$PKI/ca.pem" >"$PKI/mx.chain.pem"
SPKI=$(openssl pkey -in "$PKI/mx.key" -pubout -outform DER | openssl dgst -sha256 -r | cut -d' ' -f1)

# --- addresses and the zone ---------------------------------------------------------------------
for ((i = 1; i <= NMAX; i++)); do address_of "$i"; done >"$DIR/addresses.txt"
for n in $SIZES; do head -n "$n" "$DIR/addresses.txt" >"$DIR/addresses-$n.txt"; done
domain_of() { printf 'bench-%05d.%s' "$1" "$ZONE"; }

KNOT=$DIR/knot
mkdir -p "$KNOT"/{zones,db,keys,run}
{
  echo "\$ORIGIN $ZONE."
  echo "\$TTL $TTL"
  echo "@ SOA ns.$ZONE. hostmaster.$ZONE. 1 3600 600 86400 $TTL"
  echo "@ NS ns"
  echo "ns A $DNS_ADDR"
  for ((i = 1; i <= NMAX; i++)); do
    printf 'mx-%05d A %s\n_25._tcp.mx-%05d TLSA 3 1 1 %s\n' "$i" "$(address_of "$i")" "$i" "$SPKI"
  done
  # Domain d uses MX host ((d-1) mod NMAX)+1: the first NMAX domains have distinct MX hosts;
  # the scale part's 10,000 domains share the NMAX listeners.
  for ((d = 1; d <= DMAX; d++)); do
    printf 'bench-%05d MX 10 mx-%05d\n' "$d" "$(((d - 1) % NMAX + 1))"
  done
} >"$KNOT/zones/$ZONE.zone"
cat >"$KNOT/knot.conf" <<EOF
server:
    listen: $DNS_ADDR@$DNS_PORT
    rundir: $KNOT/run
    user: root:root
log:
  - target: $KNOT/knot.log
    any: info
database:
    storage: $KNOT/db
keystore:
  - id: default
    backend: pem
    config: $KNOT/keys
policy:
  - id: bench
    algorithm: ecdsap256sha256
    single-type-signing: on
    dnskey-ttl: $TTL
zone:
  - domain: $ZONE
    storage: $KNOT/zones
    file: %s.zone
    zonefile-sync: -1
    zonefile-load: whole
    journal-content: changes
    dnssec-signing: on
    dnssec-policy: bench
EOF
knotc -c "$KNOT/knot.conf" conf-check >/dev/null || die "knot config invalid"
knotd -c "$KNOT/knot.conf" >"$KNOT/knotd.out" 2>&1 &
PIDS+=($!)
KNOT_PID=$!
signed() {
  kdig @"$DNS_ADDR" -p "$DNS_PORT" +time=1 +retry=0 +norec +dnssec MX "$(domain_of "$DMAX")." 2>/dev/null |
    grep -qE '[[:space:]]RRSIG[[:space:]]+MX'
}
wait_for "signed $ZONE" 120 signed
keymgr -c "$KNOT/knot.conf" "$ZONE" ds 2>/dev/null | awk '$2 == "DS" && $5 == "2"' | head -n1 >"$DIR/anchors.ds"
[[ -s $DIR/anchors.ds ]] || die "keymgr gave no DS"
log "knot (PID $KNOT_PID) serves $ZONE signed on $DNS_ADDR@$DNS_PORT"

# --- our SMTP listeners -------------------------------------------------------------------------
HANDSHAKES=$DIR/handshakes.txt  # TLS handshakes the server completed, rewritten as they happen
CONNECTIONS=$DIR/connections.txt  # connections it accepted (sessions opened, whatever their end)
"$SERVER" --cert "$PKI/mx.chain.pem" --key "$PKI/mx.key" --addresses "$DIR/addresses.txt" \
  --handshake-count "$HANDSHAKES" --connection-count "$CONNECTIONS" >"$DIR/server.out" 2>&1 &
SERVER_PID=$!
PIDS+=($SERVER_PID)
banner() { timeout 3 bash -c "exec 3<>/dev/tcp/$1/25; head -c3 <&3" 2>/dev/null | grep -q 220; }
wait_for "SMTP banner on $(tail -n1 "$DIR/addresses.txt")" 30 banner "$(tail -n1 "$DIR/addresses.txt")"
log "bench_smtp_server (PID $SERVER_PID) on $NMAX addresses"

# --- configs ------------------------------------------------------------------------------------
exporter_yaml() {  # concurrency interval -> yaml head (domains appended by the caller)
  cat <<EOF
# Generated by tests/bench/perf/run_bench.sh
defaults:
  interval: $2
  timeout: 20s
  concurrency: $1
resolver:
  use_resolv_conf: false
  root_trust_anchor_file: ""
  stub_zones:
    - zone: $ZONE
      addresses: ["$DNS_ADDR@$DNS_PORT"]
  trust_anchor_files: ["$DIR/anchors.ds"]
  self_test_secure_name: $ZONE
smtp:
  ehlo_name: probe.bench.test
  port: 25
  probe_special_addresses: true
$([[ -n $KEY_TYPE_RECHECK ]] && printf '  key_type_recheck_interval: %s' "$KEY_TYPE_RECHECK")
$([[ -n $SHARING ]] && printf '  share_observations: %s' "$SHARING")
tls:
  ca_files: ["$PKI/ca.pem"]
$([[ -n $METRICS_PROFILE ]] && printf 'metrics:\n  profile: %s' "$METRICS_PROFILE")
probe_allow_list: ["*.$ZONE"]
EOF
}
exporter_yaml "$CONC" 24h >"$DIR/ex/adhoc.yaml"
echo "domains: []" >>"$DIR/ex/adhoc.yaml"

cat >"$DIR/bb/blackbox.yml" <<EOF
modules:
  smtp_starttls:
    prober: tcp
    timeout: 20s
    tcp:
      preferred_ip_protocol: ip4
      query_response:
        - expect: "^220"
        - send: "EHLO blackbox.bench.test\r"
        - expect: "^250[- ]STARTTLS"
        - send: "STARTTLS\r"
        - expect: "^220"
        - starttls: true
        - send: "EHLO blackbox.bench.test\r"
        - expect: "^250 "
        - send: "QUIT\r"
        - expect: "^221"
      tls_config:
        ca_file: $PKI/ca.pem
        server_name: mx.$ZONE
EOF

# --- the three probers, one round each -----------------------------------------------------------
# A round probes every one of n addresses (domains) once, CONC at a time, and prints
# "probes ok wall_s cpu_s". The long-running probers' CPU is read from /proc before and after;
# the baseline is a fresh process per round that reports its own getrusage.
baseline_round() {  # n
  local out
  out=$("$BASELINE" --addresses "$DIR/addresses-$1.txt" --ca "$PKI/ca.pem" --concurrency "$CONC" \
    --servername "mx.$ZONE" || true)
  awk '{for (i = 1; i <= NF; i++) {split($i, kv, "="); v[kv[1]] = kv[2]};
        print v["probes"], v["ok"], v["wall_s"], v["cpu_s"], v["maxrss_kb"]}' <<<"$out"
}

# Both run in this shell (not in $(...)), so PIDS, EX_PID and BB_PID reach the cleanup trap.
start_exporter() {  # config listen storage-dir log; sets EX_PID
  mkdir -p "$3"
  "$EXPORTER" --config.file "$1" --web.listen-address "$2" --storage.path "$3" >"$4" 2>&1 &
  EX_PID=$!
  PIDS+=($EX_PID)
  wait_for "exporter ready on $2" 60 curl -sf -o /dev/null "http://$2/-/ready"
}
start_blackbox() {  # sets BB_PID
  "$BLACKBOX" --config.file "$DIR/bb/blackbox.yml" --web.listen-address "$BB_LISTEN" \
    >"$DIR/bb/blackbox.log" 2>&1 &
  BB_PID=$!
  PIDS+=($BB_PID)
  wait_for "blackbox on $BB_LISTEN" 30 curl -sf -o /dev/null "http://$BB_LISTEN/-/healthy"
}

median() { sort -g | awk '{a[NR] = $1} END {if (NR == 0) print "nan"; else if (NR % 2) print a[(NR + 1) / 2]; else printf "%.4f\n", (a[NR / 2] + a[NR / 2 + 1]) / 2}'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.2f", a / b; else print "nan" }'; }

say "machine: nproc=$(nproc), $(grep -m1 'model name' /proc/cpuinfo | sed 's/.*: //'), $(uname -r)"
say "load before: $(cut -d' ' -f1-3 /proc/loadavg)"
say "settings: sizes=[$SIZES] rounds=$ROUNDS concurrency=$CONC ttl=${TTL}s scale=[$SCALE] metrics.profile=${METRICS_PROFILE:-default} key_type_recheck=${KEY_TYPE_RECHECK:-default} share_observations=${SHARING:-default}"

# A sample probe of each kind, so a broken setup is seen before anything is measured.
start_exporter "$DIR/ex/adhoc.yaml" "$EX_LISTEN" "$DIR/ex/storage" "$DIR/ex/exporter.log"
curl -s "http://$EX_LISTEN/probe?target=$(domain_of 1)&debug=true" >"$DIR/ex/sample-probe.txt"
grep -qE '^mailtls_probe_success\{[^}]*\} 1' "$DIR/ex/sample-probe.txt" ||
  die "sample exporter probe failed, see $DIR/ex/sample-probe.txt"
grep -E '^mailtls_dane_status\{.*\} 1' "$DIR/ex/sample-probe.txt" | head -n 3 | sed 's/^/  sample: /' | tee -a "$RESULTS"
stop_pid "$EX_PID"

for n in $SIZES; do
  for ((i = 1; i <= n; i++)); do echo "url = \"http://$EX_LISTEN/probe?target=$(domain_of "$i")\""; done \
    >"$DIR/ex/urls-$n.txt"
  sed "s|^|url = \"http://$BB_LISTEN/probe?module=smtp_starttls\&target=|; s|\$|:25\"|" \
    "$DIR/addresses-$n.txt" >"$DIR/bb/urls-$n.txt"
done
# A round: the URL list is split into batches of 25 (curl config files of "url = ..." lines,
# one curl process each, connection reused); CONC batches run at once. The success regex is
# counted in the response bodies, so a failed probe is seen, not just an HTTP 200.
http_batch_round() {  # pid urls-file success-regex
  local pid=$1 urls=$2 re=$3 c0 c1 t0 t1 ok parts
  parts=$(mktemp -d "$DIR/batch.XXXX")
  split -l 25 "$urls" "$parts/b."
  c0=$(cpu_seconds "$pid")
  t0=$(date +%s.%N)
  ok=$(find "$parts" -name 'b.*' -print0 | xargs -0 -P "$CONC" -I{} curl -s --max-time 120 -K {} |
    grep -cE "$re" || true)
  t1=$(date +%s.%N)
  c1=$(cpu_seconds "$pid")
  rm -rf "$parts"
  echo "$(wc -l <"$urls") $ok $(echo "$t1 - $t0" | bc -l) $(echo "$c1 - $c0" | bc -l)"
}

for n in $SIZES; do
  log "side by side, N=$n: warm-up round of each, then $ROUNDS measured rounds A B C"
  start_exporter "$DIR/ex/adhoc.yaml" "$EX_LISTEN" "$DIR/ex/storage-$n" "$DIR/ex/exporter-$n.log"
  start_blackbox
  EX_RE='^mailtls_probe_success\{[^}]*\} 1$'
  BB_RE='^probe_success 1$'
  http_batch_round "$EX_PID" "$DIR/ex/urls-$n.txt" "$EX_RE" >/dev/null
  http_batch_round "$BB_PID" "$DIR/bb/urls-$n.txt" "$BB_RE" >/dev/null
  baseline_round "$n" >/dev/null
  for ((r = 1; r <= ROUNDS; r++)); do
    read -r p ok w c <<<"$(http_batch_round "$EX_PID" "$DIR/ex/urls-$n.txt" "$EX_RE")"
    printf '%s\t%s\texporter\t%s\t%s\t%s\t%s\n' "$n" "$r" "$p" "$ok" "$w" "$c" >>"$ROUNDS_TSV"
    log "N=$n round $r exporter: probes=$p ok=$ok wall=${w}s cpu=${c}s"
    read -r p ok w c <<<"$(http_batch_round "$BB_PID" "$DIR/bb/urls-$n.txt" "$BB_RE")"
    printf '%s\t%s\tblackbox\t%s\t%s\t%s\t%s\n' "$n" "$r" "$p" "$ok" "$w" "$c" >>"$ROUNDS_TSV"
    log "N=$n round $r blackbox: probes=$p ok=$ok wall=${w}s cpu=${c}s"
    read -r p ok w c rss <<<"$(baseline_round "$n")"
    printf '%s\t%s\tbaseline\t%s\t%s\t%s\t%s\n' "$n" "$r" "$p" "$ok" "$w" "$c" >>"$ROUNDS_TSV"
    echo "$rss" >>"$DIR/baseline-rss-$n.txt"
    log "N=$n round $r baseline: probes=$p ok=$ok wall=${w}s cpu=${c}s"
  done
  if ((PERF)); then  # after the measured rounds and the HWM reading below: figures unaffected
    hwm_ex=$(hwm_kb "$EX_PID")
    perf_start "$EX_PID" "perf-probe-$n"
    http_batch_round "$EX_PID" "$DIR/ex/urls-$n.txt" "$EX_RE" >/dev/null
    perf_stop
  fi
  echo "${hwm_ex:-$(hwm_kb "$EX_PID")}" >"$DIR/ex/hwm-$n.txt"
  echo "$(hwm_kb "$BB_PID")" >"$DIR/bb/hwm-$n.txt"
  say "N=$n memory at the end (kB): exporter $(mem_line "$EX_PID"); blackbox $(mem_line "$BB_PID")"
  stop_pid "$EX_PID"
  stop_pid "$BB_PID"
done

if [[ -n ${SIZES// /} ]]; then
say ""
say "side by side (medians of $ROUNDS rounds; CPU = utime+stime of the prober process only)"
say "| N | prober | ok/probes (worst round) | wall s/round | CPU ms/probe | peak RSS MiB |"
say "|---|---|---|---|---|---|"
for n in $SIZES; do
  for who in exporter blackbox baseline; do
    w=$(awk -v n="$n" -v p="$who" '$1 == n && $3 == p {print $6}' "$ROUNDS_TSV" | median)
    cpp=$(awk -v n="$n" -v p="$who" '$1 == n && $3 == p && $4 > 0 {print 1000 * $7 / $4}' "$ROUNDS_TSV" | median)
    okw=$(awk -v n="$n" -v p="$who" '$1 == n && $3 == p {if (min == "" || $5 < min) min = $5; t = $4} END {print min "/" t}' "$ROUNDS_TSV")
    case $who in
      exporter) rss=$(cat "$DIR/ex/hwm-$n.txt") ;;
      blackbox) rss=$(cat "$DIR/bb/hwm-$n.txt") ;;
      baseline) rss=$(sort -g "$DIR/baseline-rss-$n.txt" | tail -n1) ;;
    esac
    eval "CPP_${who}_$n=$cpp"
    say "| $n | $who | $okw | $w | $cpp | $(awk -v k="$rss" 'BEGIN {printf "%.1f", k / 1024}') |"
  done
done
say ""
for n in $SIZES; do
  e=CPP_exporter_$n b=CPP_blackbox_$n o=CPP_baseline_$n
  say "N=$n: CPU ratio exporter/blackbox = $(ratio "${!e}" "${!b}"), exporter/baseline = $(ratio "${!e}" "${!o}")"
done
fi

# --- the exporter at scale: one scheduled round of D domains ------------------------------------
for d in $SCALE; do
  log "scale: $d configured domains, one scheduled round (limit ${SCALE_LIMIT}s)"
  cfg=$DIR/scale/scale-$d.yaml
  exporter_yaml 32 24h | grep -v '^probe_allow_list' >"$cfg"
  echo "domains:" >>"$cfg"
  for ((i = 1; i <= d; i++)); do echo "  - $(domain_of "$i")"; done >>"$cfg"
  hs0=$(server_handshakes)
  cn0=$(server_connections)
  t0=$(date +%s.%N)
  start_exporter "$cfg" "$EX_LISTEN" "$DIR/scale/storage-$d" "$DIR/scale/exporter-$d.log"
  pid=$EX_PID
  : >"$DIR/scale/scrapes-$d.txt"
  done_count=0
  deadline=$((SECONDS + SCALE_LIMIT))
  while ((SECONDS < deadline)); do
    if ((SCRAPE_GZIP)); then
      # Timed without decompressing (that is the scraper's work), decompressed afterwards.
      m=$(curl -s --max-time 10 -H 'Accept-Encoding: gzip' -o "$DIR/scale/metrics.gz" -w '%{time_total}' "http://$EX_LISTEN/metrics" || echo fail)
      if gzip -t "$DIR/scale/metrics.gz" 2>/dev/null; then gzip -dc <"$DIR/scale/metrics.gz" >"$DIR/scale/metrics.txt"; else cp "$DIR/scale/metrics.gz" "$DIR/scale/metrics.txt"; fi
    else
      m=$(curl -s --max-time 10 -o "$DIR/scale/metrics.txt" -w '%{time_total}' "http://$EX_LISTEN/metrics" || echo fail)
    fi
    echo "$m" >>"$DIR/scale/scrapes-$d.txt"
    done_count=$(grep -c '^mailtls_probe_success{' "$DIR/scale/metrics.txt" || true)
    ((done_count >= d)) && break
    sleep 0.5
  done
  t1=$(date +%s.%N)
  cpu=$(cpu_seconds "$pid")
  hwm=$(hwm_kb "$pid")
  ok=$(grep -cE '^mailtls_probe_success\{[^}]*\} 1$' "$DIR/scale/metrics.txt" || true)
  lines=$(wc -l <"$DIR/scale/metrics.txt")
  # Handshakes per round, counted by the server and by the exporter (its own counters, from a
  # last uncompressed scrape).
  curl -s --max-time 60 -o "$DIR/scale/metrics-last-$d.txt" "http://$EX_LISTEN/metrics" || true
  stop_pid "$pid"
  hs1=$(server_handshakes)
  cn1=$(server_connections)
  ex_sessions=$(awk '$1 == "mailtls_smtp_sessions_total" {print $2}' "$DIR/scale/metrics-last-$d.txt")
  ex_reused=$(awk '$1 == "mailtls_smtp_observations_reused_total" {print $2}' "$DIR/scale/metrics-last-$d.txt")
  ex_wait=$(awk '$1 == "mailtls_smtp_politeness_wait_seconds_total" {print $2}' "$DIR/scale/metrics-last-$d.txt")
  endpoints=$((d < NMAX ? d : NMAX))
  scr=$(grep -v fail "$DIR/scale/scrapes-$d.txt" | sort -g)
  nscr=$(grep -vc fail "$DIR/scale/scrapes-$d.txt" || true)
  med=$(median <<<"$scr")
  p99=$(awk -v n="$nscr" '{a[NR] = $1} END {i = int(0.99 * n + 0.999); if (i < 1) i = 1; print a[i]}' <<<"$scr")
  mx=$(tail -n1 <<<"$scr")
  say ""
  say "scale D=$d: probed=$done_count/$d (success=1: $ok) in $(echo "$t1 - $t0" | bc -l | xargs printf '%.1f')s from start" \
    "(first probes spread over 10 s), CPU total ${cpu}s = $(awk -v c="$cpu" -v n="$done_count" 'BEGIN {if (n > 0) printf "%.2f", 1000 * c / n; else print "nan"}') ms/domain probe" \
    "(startup included), peak RSS $(awk -v k="$hwm" 'BEGIN {printf "%.1f", k / 1024}') MiB," \
    "/metrics scrapes=$nscr median=${med}s p99=${p99}s max=${mx}s, last scrape $lines lines"
  say "scale D=$d: handshakes in the round: $((hs1 - hs0)) counted by bench_smtp_server" \
    "(connections it accepted: $((cn1 - cn0)))," \
    "${ex_sessions:-?} SMTP sessions and ${ex_reused:-?} reused observations counted by the exporter," \
    "${ex_wait:-?} s waited for politeness; distinct endpoints $endpoints"

  # The same round without scrapes during it (peak RSS of probing alone), then scrapes of the
  # finished state one after another: waits 1.5 x the scraped round + 5 s, no completion polling.
  ((QUIET)) || continue
  quiet_wait=$(awk -v a="$t0" -v b="$t1" 'BEGIN {printf "%d", 1.5 * (b - a) + 5}')
  log "scale: $d domains again, no scrapes for ${quiet_wait}s"
  start_exporter "$cfg" "$EX_LISTEN" "$DIR/scale/storage-quiet-$d" "$DIR/scale/exporter-quiet-$d.log"
  pid=$EX_PID
  perf_start "$pid" "perf-scale-$d"
  sleep "$quiet_wait"
  hwm0=$(hwm_kb "$pid")
  cpu0=$(cpu_seconds "$pid")
  perf_stop
  : >"$DIR/scale/scrapes-quiet-$d.txt"
  for ((k = 1; k <= 5; k++)); do
    curl -s --max-time 30 -o "$DIR/scale/metrics-quiet.txt" -w '%{time_total}\n' "http://$EX_LISTEN/metrics" \
      >>"$DIR/scale/scrapes-quiet-$d.txt" || echo fail >>"$DIR/scale/scrapes-quiet-$d.txt"
  done
  hwm1=$(hwm_kb "$pid")
  cpu1=$(cpu_seconds "$pid")
  # As Prometheus asks: Accept-Encoding: gzip.
  : >"$DIR/scale/scrapes-gzip-$d.txt"
  for ((k = 1; k <= 5; k++)); do
    curl -s --max-time 60 -H 'Accept-Encoding: gzip' -o "$DIR/scale/metrics-quiet.gz" -w '%{time_total} %{size_download}\n' \
      "http://$EX_LISTEN/metrics" >>"$DIR/scale/scrapes-gzip-$d.txt" || echo fail >>"$DIR/scale/scrapes-gzip-$d.txt"
  done
  hwm2=$(hwm_kb "$pid")
  cpu2=$(cpu_seconds "$pid")
  qdone=$(grep -c '^mailtls_probe_success{' "$DIR/scale/metrics-quiet.txt" || true)
  stop_pid "$pid"
  say "scale D=$d quiet: after ${quiet_wait}s without scrapes $qdone/$d probed, CPU ${cpu0}s" \
    "= $(awk -v c="$cpu0" -v n="$qdone" 'BEGIN {if (n > 0) printf "%.2f", 1000 * c / n; else print "nan"}') ms/domain probe (startup included)," \
    "peak RSS $(awk -v k="$hwm0" 'BEGIN {printf "%.1f", k / 1024}') MiB;" \
    "5 scrapes of the finished state: $(tr '\n' ' ' <"$DIR/scale/scrapes-quiet-$d.txt")s," \
    "$(awk -v a="$cpu0" -v b="$cpu1" 'BEGIN {printf "%.2f", (b - a) / 5}') CPU s/scrape," \
    "peak RSS after them $(awk -v k="$hwm1" 'BEGIN {printf "%.1f", k / 1024}') MiB;" \
    "5 gzip scrapes (s, bytes): $(awk '{printf "%s/%s ", $1, $2}' "$DIR/scale/scrapes-gzip-$d.txt")," \
    "$(awk -v a="$cpu1" -v b="$cpu2" 'BEGIN {printf "%.2f", (b - a) / 5}') CPU s/scrape," \
    "peak RSS after them $(awk -v k="$hwm2" 'BEGIN {printf "%.1f", k / 1024}') MiB"
done

# --- profile ------------------------------------------------------------------------------------
if ((PROFILE)); then
  cfg=$DIR/prof/check.yaml
  exporter_yaml 1 24h >"$cfg"
  echo "domains: []" >>"$cfg"
  names=()
  for ((i = 1; i <= 10; i++)); do names+=("$(domain_of "$i")"); done
  log "callgrind on check of ${#names[@]} domains"
  (cd "$DIR/prof" && timeout 600 valgrind --tool=callgrind --callgrind-out-file="$DIR/prof/callgrind.out" \
    "$EXPORTER" --config.file "$cfg" check "${names[@]}" >"$DIR/prof/check.out" 2>"$DIR/prof/valgrind.err") || true
  callgrind_annotate --inclusive=yes "$DIR/prof/callgrind.out" 2>/dev/null | head -n 60 >"$DIR/prof/inclusive.txt" || true
  callgrind_annotate "$DIR/prof/callgrind.out" 2>/dev/null | head -n 45 >"$DIR/prof/self.txt" || true
  say ""
  say "profile: $DIR/prof/inclusive.txt and self.txt (callgrind, check of ${#names[@]} domains)"
fi
say ""
say "load after: $(cut -d' ' -f1-3 /proc/loadavg)"
