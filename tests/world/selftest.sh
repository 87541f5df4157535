#!/bin/bash
# Self-test of the local test world: starts it, checks every part with real clients (kdig,
# libunbound, openssl s_client -starttls smtp, curl --resolve), exercises the mutations,
# a partial failure and stop, and prints "N passed, N failed". Exit status 0 iff all passed.
# If the world is already running, it is checked and left running (no restart/stop checks).
set -uo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO=$(cd "$HERE/../.." && pwd)
WORLD=$HERE/world.sh
RUN_DIR=${MAILTLS_WORLD_DIR:-$REPO/.world}

passed=0
failed=0
ok() { passed=$((passed + 1)); echo "ok   $1"; }
bad() { failed=$((failed + 1)); echo "FAIL $1${2:+: $2}"; }
check() {  # description command...: passes when the command succeeds
  local what=$1
  shift
  if "$@" >/dev/null 2>&1; then ok "$what"; else bad "$what"; fi
}
check_eq() {  # description got want
  if [[ $2 == "$3" ]]; then ok "$1"; else bad "$1" "got '$2', want '$3'"; fi
}

dig_() { kdig @"$DNS_ADDR" -p "$DNS_PORT" +time=2 +retry=1 "$@" 2>/dev/null; }
served_spki() {  # host:port as for s_client
  timeout 10 openssl s_client -starttls smtp -connect "$1" -servername probe </dev/null 2>/dev/null |
    openssl x509 -noout -pubkey 2>/dev/null | openssl pkey -pubin -outform DER 2>/dev/null |
    openssl dgst -sha256 -r | cut -d' ' -f1
}
ehlo_reply() {  # address: the EHLO reply lines
  timeout 5 bash -c 'exec 3<>/dev/tcp/$0/25
    read -r l <&3; printf "EHLO probe.mailtls.test\r\n" >&3
    while read -r l <&3; do echo "$l"; [[ $l == 250\ * ]] && break; done
    printf "QUIT\r\n" >&3' "$1" 2>/dev/null
}
fetch_policy() {  # domain address [curl args]: prints "code content_type size"
  local d=$1 a=$2
  shift 2
  curl -s -o /dev/null --max-time 10 --resolve "mta-sts.$d:443:$a" "$@" \
    -w '%{http_code} %{content_type} %{size_download}' "https://mta-sts.$d/.well-known/mta-sts.txt"
}
ub() { "$UBCHECK" "$RUN_DIR/unbound.conf" "$@" 2>&1; }

# ---------------------------------------------------------------------------------------------
was_running=0
if MAILTLS_WORLD_DIR=$RUN_DIR "$WORLD" status >/dev/null 2>&1; then was_running=1; fi

t0=$(date +%s)
if MAILTLS_WORLD_DIR=$RUN_DIR "$WORLD" start; then ok "world.sh start"; else
  bad "world.sh start"
  echo "$passed passed, $failed failed"
  exit 1
fi
elapsed=$(($(date +%s) - t0))
if ((elapsed < 60)); then ok "start finished in ${elapsed}s (< 60 s)"; else bad "start took ${elapsed}s"; fi
out=$(MAILTLS_WORLD_DIR=$RUN_DIR "$WORLD" start 2>&1)
check "second start exits 0" test $? -eq 0
check "second start says already running" grep -q "already running" <<<"$out"
check "status exits 0 while running" env MAILTLS_WORLD_DIR="$RUN_DIR" "$WORLD" status

# shellcheck disable=SC1091
source "$RUN_DIR/world.env"
# shellcheck disable=SC1091
source "$RUN_DIR/tlsa.env"
for k in WORLD_DIR DNS_ADDR DNS_PORT ANCHORS_FILE WEBPKI_CA_FILE DANE_CA_FILE KNOT_PID POSTFIX_PID NGINX_PID; do
  check "world.env has $k" test -n "${!k:-}"
done
for f in "$ANCHORS_FILE" "$WEBPKI_CA_FILE" "$DANE_CA_FILE" "$RUN_DIR/exporter.yaml" "$RUN_DIR/unbound.conf"; do
  check "file $f exists" test -s "$f"
done
check "knotd PID $KNOT_PID alive" kill -0 "$KNOT_PID"
check "postfix master PID $POSTFIX_PID alive" kill -0 "$POSTFIX_PID"
check "nginx PID $NGINX_PID alive" kill -0 "$NGINX_PID"

# --- DNS ------------------------------------------------------------------------------------
mapfile -t signed_zones < <(awk '{sub(/\.$/, "", $1); print $1}' "$ANCHORS_FILE")
check_eq "anchors.ds has one DS per signed zone" "${#signed_zones[@]}" 31
for z in "${signed_zones[@]}"; do
  check "$z SOA is signed (RRSIG)" grep -qE 'RRSIG[[:space:]]+SOA' <<<"$(dig_ +dnssec +norec SOA "$z.")"
done
check "insecure.test answers without RRSIG" bash -c "! grep -q RRSIG <<<\"\$(kdig @$DNS_ADDR -p $DNS_PORT +dnssec +norec SOA insecure.test.)\""
check "test. delegates dane-good.test to ns.test" grep -q 'ns.test' <<<"$(dig_ +norec NS dane-good.test.)"
real_bogus_ds=$(keymgr -c "$KNOT_CONF" bogus.test ds 2>/dev/null | awk '$5 == "2" {print $6}')
anchor_bogus_ds=$(awk '$1 == "bogus.test." {print $6}' "$ANCHORS_FILE")
check "bogus.test anchor digest differs from the real DS" test -n "$real_bogus_ds" -a "$real_bogus_ds" != "$anchor_bogus_ds"
real_good_ds=$(keymgr -c "$KNOT_CONF" dane-good.test ds 2>/dev/null | awk '$5 == "2" {print $6}')
check_eq "dane-good.test anchor digest is the real DS" "$(awk '$1 == "dane-good.test." {print $6}' "$ANCHORS_FILE")" "$real_good_ds"

# expiring.test: every RRSIG expires within 24 h (and not yet).
exp=$(dig_ +dnssec +norec MX expiring.test. | awk '$4 == "RRSIG" && $5 == "MX" {print $9}' | head -n1)
now=$(date -u +%s)
exp_s=$(date -u -d "${exp:0:8} ${exp:8:2}:${exp:10:2}:${exp:12:2}" +%s 2>/dev/null || echo 0)
check "expiring.test RRSIG expiry ($exp) is within 24 h" test "$exp_s" -gt "$now" -a "$exp_s" -lt $((now + 86400))
exp=$(dig_ +dnssec +norec MX signed.test. | awk '$4 == "RRSIG" && $5 == "MX" {print $9}' | head -n1)
exp_s=$(date -u -d "${exp:0:8} ${exp:8:2}:${exp:10:2}:${exp:12:2}" +%s 2>/dev/null || echo 0)
check "signed.test RRSIG expiry ($exp) is days ahead" test "$exp_s" -gt $((now + 5 * 86400))

# TLSA data in DNS = the generated keys.
tlsa() { dig_ +short TLSA "$1" | tr 'A-F' 'a-f' | tr -d ' ' | sort; }
check_eq "TLSA mx.dane-good.test" "$(tlsa _25._tcp.mx.dane-good.test)" "311$SPKI_GOOD"
check_eq "TLSA mx.dane-ta.test" "$(tlsa _25._tcp.mx.dane-ta.test)" "211$SPKI_DANE_CA"
check_eq "TLSA mx.dane-leftovers.test has 3 records" "$(tlsa _25._tcp.mx.dane-leftovers.test | wc -l)" 3
check_eq "TLSA mx.dane-rollover.test has 2 records" "$(tlsa _25._tcp.mx.dane-rollover.test | wc -l)" 2
check_eq "TLSA _25._tcp.nomx.test" "$(tlsa _25._tcp.nomx.test)" "311$SPKI_NOMX"
check_eq "TLSA mail.cname-insecure.test" "$(tlsa _25._tcp.mail.cname-insecure.test)" "311$SPKI_INSECURE"
check_eq "nomx.test has no MX" "$(dig_ +short MX nomx.test)" ""
check_eq "mail.cname-mx.test CNAME" "$(dig_ +short CNAME mail.cname-mx.test)" "mx.dane-good.test."
check_eq "mx.dane-v6.test AAAA" "$(dig_ +short AAAA mx.dane-v6.test)" "::1"
check_eq "sts-twotxt.test has two STS TXT" "$(dig_ +short TXT _mta-sts.sts-twotxt.test | grep -c 'v=STSv1')" 2
check "tlsrpt-bad.test TXT has no rua" bash -c "kdig @$DNS_ADDR -p $DNS_PORT +short TXT _smtp._tls.tlsrpt-bad.test | grep -q 'v=TLSRPTv1;' && ! kdig @$DNS_ADDR -p $DNS_PORT +short TXT _smtp._tls.tlsrpt-bad.test | grep -q rua"
check "tlsrpt-http.test TXT has an http rua" grep -q 'rua=http://' <<<"$(dig_ +short TXT _smtp._tls.tlsrpt-http.test)"

# --- Validation through libunbound (the exporter's resolver, one stub for test.) -----------
UBCHECK=$RUN_DIR/ubcheck
# shellcheck disable=SC2046  # pkg-config output is meant to be split
if cc -O1 -o "$UBCHECK" "$HERE/ubcheck.c" $(pkg-config --cflags --libs libunbound) 2>/dev/null; then
  ok "built ubcheck (libunbound)"
  while read -r name type want; do
    got=$(ub "$name" "$type")
    if [[ $got == "$want"* ]]; then ok "libunbound $name $type: $got"; else bad "libunbound $name $type" "got '$got', want '$want'"; fi
  done <<'EOF'
signed.test A secure
mx.signed.test A secure
insecure.test MX insecure
mx.insecure.test A insecure
bogus.test A bogus
mx.bogus.test A bogus
_25._tcp.mx.bogus.test TLSA bogus
expiring.test MX secure
_25._tcp.mx.dane-good.test TLSA secure
dane-degraded.test MX secure
mx.dane-v6.test AAAA secure
mail.cname-mx.test A secure
mail.cname-insecure.test CNAME secure
mail.cname-insecure.test A insecure
_25._tcp.mail.cname-insecure.test TLSA secure
_25._tcp.mail.cname-mx.test TLSA secure nxdomain
nomx.test MX secure nodata
_25._tcp.nomx.test TLSA secure
_mta-sts.sts-enforce.test TXT secure
_smtp._tls.tlsrpt-bad.test TXT secure
EOF
else
  bad "built ubcheck (libunbound)"
fi

# --- Certificates ---------------------------------------------------------------------------
PKI=$RUN_DIR/pki
for c in good stale-new left-cur roll-cur deg1 deg2 v6-good v6-other signed insecure nomx sts mtasts-sts-enforce.test; do
  check "$c.pem verifies against the WebPKI CA" openssl verify -CAfile "$WEBPKI_CA_FILE" "$PKI/$c.pem"
done
check "ta.pem verifies against the DANE CA" openssl verify -CAfile "$DANE_CA_FILE" "$PKI/ta.pem"
check "ta.pem does not verify against the WebPKI CA" bash -c "! openssl verify -CAfile '$WEBPKI_CA_FILE' '$PKI/ta.pem'"
check "ta leaf is RSA" grep -q 'rsaEncryption' <<<"$(openssl x509 -in "$PKI/ta.pem" -noout -text 2>/dev/null)"
for c in expired mtasts-sts-expired.test; do
  check "$c.pem is expired" bash -c "! openssl x509 -in '$PKI/$c.pem' -noout -checkend 0"
  check "$c.pem is rejected as expired" grep -q 'certificate has expired' <<<"$(openssl verify -CAfile "$WEBPKI_CA_FILE" "$PKI/$c.pem" 2>&1)"
done
check "good.pem SAN is mx.dane-good.test" grep -q 'DNS:mx.dane-good.test' <<<"$(openssl x509 -in "$PKI/good.pem" -noout -ext subjectAltName)"

# --- SMTP / STARTTLS ------------------------------------------------------------------------
while read -r addr var; do
  check_eq "STARTTLS at $addr serves $var" "$(served_spki "$addr")" "${!var}"
done <<'EOF'
127.0.1.1:25 SPKI_GOOD
127.0.1.2:25 SPKI_STALE_NEW
127.0.1.3:25 SPKI_LEFT_CUR
127.0.1.4:25 SPKI_TA_LEAF
127.0.1.5:25 SPKI_ROLL_CUR
127.0.1.6:25 SPKI_DEG1
127.0.1.7:25 SPKI_DEG2
127.0.1.8:25 SPKI_EXPIRED
127.0.1.10:25 SPKI_V6_GOOD
[::1]:25 SPKI_V6_OTHER
127.0.1.11:25 SPKI_SIGNED
127.0.1.12:25 SPKI_INSECURE
127.0.1.13:25 SPKI_NOMX
127.0.1.20:25 SPKI_STS
EOF
check "stale key: served SPKI differs from the TLSA" test "$SPKI_STALE_NEW" != "$SPKI_STALE_OLD"
check "127.0.1.9 EHLO works" grep -q '^250 ' <<<"$(ehlo_reply 127.0.1.9)"
check "127.0.1.9 does not offer STARTTLS" bash -c "! grep -qi STARTTLS <<<'$(ehlo_reply 127.0.1.9)'"
check "127.0.1.1 offers STARTTLS" grep -qi STARTTLS <<<"$(ehlo_reply 127.0.1.1)"
check_eq "127.0.1.4 sends leaf + CA" \
  "$(timeout 10 openssl s_client -starttls smtp -connect 127.0.1.4:25 -showcerts </dev/null 2>/dev/null | grep -c 'BEGIN CERTIFICATE')" 2
check "127.0.1.4 chain verifies with the DANE CA and name mx.dane-ta.test" grep -q 'Verify return code: 0' \
  <<<"$(timeout 10 openssl s_client -starttls smtp -connect 127.0.1.4:25 -CAfile "$DANE_CA_FILE" -verify_hostname mx.dane-ta.test </dev/null 2>/dev/null)"
check "127.0.1.1 is PKIX-valid for mx.dane-good.test" grep -q 'Verify return code: 0' \
  <<<"$(timeout 10 openssl s_client -starttls smtp -connect 127.0.1.1:25 -CAfile "$WEBPKI_CA_FILE" -verify_hostname mx.dane-good.test </dev/null 2>/dev/null)"
check "127.0.1.8 fails PKIX (expired)" grep -q 'certificate has expired' \
  <<<"$(timeout 10 openssl s_client -starttls smtp -connect 127.0.1.8:25 -CAfile "$WEBPKI_CA_FILE" </dev/null 2>/dev/null)"
# DANE as OpenSSL sees it: 3 1 1 match on dane-good, no match on dane-stalekey.
check "openssl -dane_tlsa_rrdata 3 1 1 matches at 127.0.1.1" grep -q 'Verification: OK' \
  <<<"$(timeout 10 openssl s_client -starttls smtp -connect 127.0.1.1:25 -dane_tlsa_domain mx.dane-good.test -dane_tlsa_rrdata "3 1 1 $SPKI_GOOD" </dev/null 2>/dev/null)"
check "openssl -dane_tlsa_rrdata 3 1 1 old key fails at 127.0.1.2" bash -c "! timeout 10 openssl s_client -starttls smtp -connect 127.0.1.2:25 -dane_tlsa_domain mx.dane-stalekey.test -dane_tlsa_rrdata '3 1 1 $SPKI_STALE_OLD' </dev/null 2>/dev/null | grep -q 'Verification: OK'"
check "openssl -dane_tlsa_rrdata 2 1 1 matches at 127.0.1.4" grep -q 'Verification: OK' \
  <<<"$(timeout 10 openssl s_client -starttls smtp -connect 127.0.1.4:25 -dane_tlsa_domain mx.dane-ta.test -dane_tlsa_rrdata "2 1 1 $SPKI_DANE_CA" </dev/null 2>/dev/null)"

# --- MTA-STS --------------------------------------------------------------------------------
CA=(--cacert "$WEBPKI_CA_FILE")
check_eq "sts-enforce policy" "$(fetch_policy sts-enforce.test 127.0.2.1 "${CA[@]}" | cut -d' ' -f1,2)" "200 text/plain"
check_eq "sts-enforce body" "$(curl -s "${CA[@]}" --resolve mta-sts.sts-enforce.test:443:127.0.2.1 https://mta-sts.sts-enforce.test/.well-known/mta-sts.txt | grep -c '^mode: enforce$')" 1
check "sts-testing policy is testing with CRLF" grep -q $'mode: testing\r' <<<"$(curl -s "${CA[@]}" --resolve mta-sts.sts-testing.test:443:127.0.2.2 https://mta-sts.sts-testing.test/.well-known/mta-sts.txt)"
check_eq "sts-changed policy" "$(fetch_policy sts-changed.test 127.0.2.3 "${CA[@]}" | cut -d' ' -f1)" 200
check_eq "sts-redirect answers 301" "$(fetch_policy sts-redirect.test 127.0.2.4 "${CA[@]}" | cut -d' ' -f1)" 301
check_eq "sts-html is text/html" "$(fetch_policy sts-html.test 127.0.2.5 "${CA[@]}" | cut -d' ' -f1,2)" "200 text/html"
size=$(fetch_policy sts-huge.test 127.0.2.6 "${CA[@]}" | cut -d' ' -f3)
check "sts-huge body is > 64 KiB ($size)" test "${size:-0}" -gt 65536
check_eq "sts-expired certificate is rejected as expired (curl 60)" \
  "$(curl -s -o /dev/null "${CA[@]}" --resolve mta-sts.sts-expired.test:443:127.0.2.7 https://mta-sts.sts-expired.test/.well-known/mta-sts.txt; echo $?)" 60
check_eq "sts-expired policy is served without verification" "$(fetch_policy sts-expired.test 127.0.2.7 -k | cut -d' ' -f1)" 200
check "sts-mxmiss covers only mx1" bash -c "curl -s --cacert '$WEBPKI_CA_FILE' --resolve mta-sts.sts-mxmiss.test:443:127.0.2.8 https://mta-sts.sts-mxmiss.test/.well-known/mta-sts.txt | grep -q '^mx: mx1.sts-mxmiss.test$' && [[ \$(kdig @$DNS_ADDR -p $DNS_PORT +short MX sts-mxmiss.test | wc -l) == 2 ]]"
check_eq "sts-twotxt policy" "$(fetch_policy sts-twotxt.test 127.0.2.9 "${CA[@]}" | cut -d' ' -f1)" 200
check "127.0.1.20 is PKIX-valid for mx2.sts-mxmiss.test" grep -q 'Verify return code: 0' \
  <<<"$(timeout 10 openssl s_client -starttls smtp -connect 127.0.1.20:25 -CAfile "$WEBPKI_CA_FILE" -verify_hostname mx2.sts-mxmiss.test </dev/null 2>/dev/null)"

# --- Reference DANE verdicts from Postfix itself (posttls-finger) ---------------------------
# shellcheck source=tests/world/posttls_finger_ref.sh
source "$(dirname "$0")/posttls_finger_ref.sh"
trap stop_ref_unbound EXIT
have_ref=0
if ref_setup; then
  have_ref=1
  ok "reference resolver (unbound $REF_UNBOUND_PID on 127.0.3.53) and mount namespace"
  check "reference resolver sets AD for dane-good.test" grep -qE ';; Flags:[a-z ]* ad[; ]' <<<"$(kdig @127.0.3.53 +dnssec MX dane-good.test)"
  verified='Verified TLS connection established'
  nomatch='no matching DANE TLSA records'
  for d in expiring.test cname-mx.test cname-insecure.test nomx.test dane-good.test dane-leftovers.test \
    dane-rollover.test dane-expired.test "[mx1.dane-degraded.test]"; do
    ref_expect "Matched DANE EE certificate at depth 0" -c -l dane "$d"
    ref_expect "$verified" -c -l dane "$d"
  done
  ref_expect "Matched DANE TA certificate at depth 1" -c -l dane dane-ta.test
  ref_expect "$verified" -c -l dane dane-ta.test
  ref_expect "$verified" -c -l dane -a ipv4 dane-v6.test
  ref_expect "$nomatch" -c -l dane -a ipv6 dane-v6.test
  ref_expect "$nomatch" -c -l dane dane-stalekey.test
  ref_expect "$nomatch" -c -l dane "[mx2.dane-degraded.test]"
  ref_expect "Untrusted TLS connection established to mx.signed.test" -c -l dane signed.test
  ref_expect "Untrusted TLS connection established to mx.insecure.test" -c -l dane insecure.test
  ref_expect "lookup failed" -c -l dane bogus.test
  nostarttls_out=$(ptf -l dane dane-nostarttls.test)
  check "posttls-finger dane-nostarttls.test: EHLO answered" grep -q '< 250 ' <<<"$nostarttls_out"
  check "posttls-finger dane-nostarttls.test: no TLS" bash -c '! grep -q "TLS connection established" <<<"$0"' "$nostarttls_out"
else
  bad "reference resolver / unshare (see $REF)"
fi

# --- Mutations ------------------------------------------------------------------------------
if MAILTLS_WORLD_DIR=$RUN_DIR "$WORLD" mutate rotate-key; then ok "mutate rotate-key"; else bad "mutate rotate-key"; fi
check_eq "after rotate-key 127.0.1.1 serves the new key" "$(served_spki 127.0.1.1:25)" "$SPKI_GOOD_ROTATED"
check_eq "after rotate-key the TLSA is unchanged" "$(tlsa _25._tcp.mx.dane-good.test)" "311$SPKI_GOOD"
if ((have_ref)); then ref_expect "no matching DANE TLSA records" -c -l dane dane-good.test; fi
if MAILTLS_WORLD_DIR=$RUN_DIR "$WORLD" restore rotate-key; then ok "restore rotate-key"; else bad "restore rotate-key"; fi
check_eq "after restore 127.0.1.1 serves the original key" "$(served_spki 127.0.1.1:25)" "$SPKI_GOOD"
if ((have_ref)); then ref_expect "Verified TLS connection established" -c -l dane dane-good.test; fi
stop_ref_unbound

policy() { curl -s "${CA[@]}" --resolve mta-sts.sts-changed.test:443:127.0.2.3 https://mta-sts.sts-changed.test/.well-known/mta-sts.txt; }
before=$(policy | sha256sum)
txt_before=$(dig_ +short TXT _mta-sts.sts-changed.test)
MAILTLS_WORLD_DIR=$RUN_DIR "$WORLD" mutate sts-content && ok "mutate sts-content" || bad "mutate sts-content"
after=$(policy | sha256sum)
check "sts-content changes the policy body" test "$before" != "$after"
check_eq "sts-content keeps the TXT id" "$(dig_ +short TXT _mta-sts.sts-changed.test)" "$txt_before"
MAILTLS_WORLD_DIR=$RUN_DIR "$WORLD" restore sts-content && ok "restore sts-content" || bad "restore sts-content"
check_eq "restore sts-content brings the body back" "$(policy | sha256sum)" "$before"
check "unknown mutation is refused" bash -c "! MAILTLS_WORLD_DIR='$RUN_DIR' '$WORLD' mutate no-such-thing"

# --- Partial failure, restart, stop ---------------------------------------------------------
if ((was_running)); then
  echo "(the world was already running: restart and stop checks skipped, left running)"
else
  kill -TERM "$NGINX_PID"
  for _ in $(seq 50); do kill -0 "$NGINX_PID" 2>/dev/null || break; sleep 0.1; done
  check "status fails when nginx is gone" bash -c "! MAILTLS_WORLD_DIR='$RUN_DIR' '$WORLD' status"
  check "start after a partial world restarts it" env MAILTLS_WORLD_DIR="$RUN_DIR" "$WORLD" start
  check "status ok after restart" env MAILTLS_WORLD_DIR="$RUN_DIR" "$WORLD" status
  # shellcheck disable=SC1091
  source "$RUN_DIR/world.env"
  pids=("$KNOT_PID" "$POSTFIX_PID" "$NGINX_PID")
  check "stop" env MAILTLS_WORLD_DIR="$RUN_DIR" "$WORLD" stop
  for p in "${pids[@]}"; do check "PID $p is gone after stop" bash -c "! kill -0 $p 2>/dev/null"; done
  check "no world ports open after stop" bash -c "! ss -ltnH | grep -qE '127\\.0\\.1\\.[0-9]+:25 |127\\.0\\.2\\.[0-9]+:443 |127\\.0\\.0\\.1:5300 |\\[::1\\]:25 '"
  check "stop again is fine" env MAILTLS_WORLD_DIR="$RUN_DIR" "$WORLD" stop
fi

echo "$passed passed, $failed failed"
((failed == 0))
