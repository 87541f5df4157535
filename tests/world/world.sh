#!/bin/bash
# The local test world: Knot (DNSSEC), Postfix (STARTTLS) and nginx (MTA-STS) on loopback,
# each a process of its own with every file under the run directory.
#
#   world.sh start | stop | status | mutate <what> | restore <what>
#
# Run as root (ports 25 and 443). Run directory: $MAILTLS_WORLD_DIR, default <repo>/.world.
# Everything (CAs, keys, certificates, TLSA data, zones, configs) is generated fresh by
# `start`; SCENARIOS.md says what each domain exercises and which verdicts to expect.
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO=$(cd "$HERE/../.." && pwd)
RUN_DIR=${MAILTLS_WORLD_DIR:-$REPO/.world}

DNS_ADDR=127.0.0.1
DNS_PORT=5300
START_TIMEOUT_S=40  # bound on each wait inside start (signing, listeners)

# Zones signed by Knot, each with its own trust anchor in anchors.ds (bogus.test: a wrong one).
SIGNED_ZONES=(signed.test bogus.test expiring.test cname-mx.test cname-insecure.test nomx.test
  dane-good.test dane-stalekey.test dane-leftovers.test dane-ta.test dane-rollover.test
  dane-degraded.test dane-expired.test dane-nostarttls.test dane-v6.test
  sts-enforce.test sts-testing.test sts-changed.test sts-redirect.test sts-html.test
  sts-huge.test sts-expired.test sts-mxmiss.test sts-twotxt.test tlsrpt-bad.test tlsrpt-http.test)
source "$HERE/mail_world.sh"
UNSIGNED_ZONES=(insecure.test)
ALL_ZONES=("${SIGNED_ZONES[@]}" "${UNSIGNED_ZONES[@]}")

# MTA-STS policy hosts: domain -> nginx address.
declare -A STS_ADDR=([sts-enforce.test]=127.0.2.1 [sts-testing.test]=127.0.2.2
  [sts-changed.test]=127.0.2.3 [sts-redirect.test]=127.0.2.4 [sts-html.test]=127.0.2.5
  [sts-huge.test]=127.0.2.6 [sts-expired.test]=127.0.2.7 [sts-mxmiss.test]=127.0.2.8
  [sts-twotxt.test]=127.0.2.9)
STS_DOMAINS=(sts-enforce.test sts-testing.test sts-changed.test sts-redirect.test sts-html.test
  sts-huge.test sts-expired.test sts-mxmiss.test sts-twotxt.test)

log() { echo "world: $*" >&2; }
die() { echo "world: error: $*" >&2; exit 1; }

# ---------------------------------------------------------------------------------------------
# Paths (valid once RUN_DIR is absolute)
set_paths() {
  mkdir -p "$RUN_DIR"
  RUN_DIR=$(cd "$RUN_DIR" && pwd)
  PKI=$RUN_DIR/pki
  KNOT=$RUN_DIR/knot
  PF=$RUN_DIR/postfix
  NGX=$RUN_DIR/nginx
  ENV_FILE=$RUN_DIR/world.env
  KNOT_PID_FILE=$KNOT/run/knot.pid
  PF_PID_FILE=$PF/spool/pid/master.pid
  NGX_PID_FILE=$NGX/nginx.pid
}

pid_alive() { [[ -n ${1:-} ]] && kill -0 "$1" 2>/dev/null; }
read_pid() { [[ -s $1 ]] && tr -dc '0-9' <"$1" || true; }

# ---------------------------------------------------------------------------------------------
# PKI
spki_sha256_of_key() {  # private key file -> hex SHA-256 of its DER SubjectPublicKeyInfo
  openssl pkey -in "$1" -pubout -outform DER | openssl dgst -sha256 -r | cut -d' ' -f1
}

new_key() {  # name [rsa]
  if [[ ${2:-} == rsa ]]; then
    openssl genpkey -quiet -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out "$PKI/$1.key"
  else
    openssl genpkey -quiet -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$PKI/$1.key"
  fi
  chmod 600 "$PKI/$1.key"
}

new_ca() {  # name common-name
  local n=$1
  new_key "$n"
  openssl req -x509 -new -key "$PKI/$n.key" -subj "/O=mailtls test world/CN=$2" -days 3650 \
    -sha256 -addext "basicConstraints=critical,CA:TRUE" \
    -addext "keyUsage=critical,keyCertSign,cRLSign" -addext "subjectKeyIdentifier=hash" \
    -out "$PKI/$n.pem" 2>/dev/null
  mkdir -p "$PKI/$n.db/new"
  : >"$PKI/$n.db/index.txt"
  cat >"$PKI/$n.cnf" <<EOF
[ ca ]
default_ca = this_ca
[ this_ca ]
dir = $PKI/$n.db
database = \$dir/index.txt
new_certs_dir = \$dir/new
rand_serial = yes
unique_subject = no
default_md = sha256
policy = any_name
email_in_dn = no
[ any_name ]
commonName = supplied
[ leaf ]
basicConstraints = critical,CA:FALSE
keyUsage = critical,digitalSignature,keyEncipherment
extendedKeyUsage = serverAuth
subjectAltName = \$ENV::WORLD_SAN
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
EOF
}

# issue <cert-name> <key-name> <ca-name> <start> <end> <dns-name>...
# Dates in openssl ca form (YYYYMMDDHHMMSSZ); openssl ca is used because it takes explicit
# start and end dates, which is how the expired certificates are made.
issue() {
  local name=$1 key=$2 ca=$3 start=$4 end=$5
  shift 5
  local san="" h
  for h in "$@"; do san+="${san:+,}DNS:$h"; done
  openssl req -new -key "$PKI/$key.key" -subj "/CN=$1" -out "$PKI/$name.csr" 2>/dev/null ||
    die "openssl req failed for $name"
  WORLD_SAN=$san openssl ca -batch -notext -config "$PKI/$ca.cnf" -extensions leaf \
    -cert "$PKI/$ca.pem" -keyfile "$PKI/$ca.key" -in "$PKI/$name.csr" -out "$PKI/$name.pem" \
    -startdate "$start" -enddate "$end" 2>/dev/null ||
    die "openssl ca failed for $name"
  rm -f "$PKI/$name.csr"
}

utc() { date -u -d "$1" +%Y%m%d%H%M%SZ; }

# chain <file> <key> <cert>...: one PEM with the key followed by the chain, the form
# Postfix's smtpd_tls_chain_files takes as a single file.
chain() {
  local out=$1
  shift
  cat "${@/#/$PKI/}" >"$PKI/$out"
  chmod 600 "$PKI/$out"
}

make_pki() {
  rm -rf "$PKI"
  mkdir -p "$PKI"
  local now_s now_e old_s old_e
  now_s=$(utc "-1 hour")
  now_e=$(utc "+90 days")
  old_s=$(utc "-120 days")
  old_e=$(utc "-30 days")

  new_ca webpki-ca "MailTLS World WebPKI Test CA"
  new_ca dane-ca "MailTLS World private DANE CA"

  # Keys: one per served certificate, plus keys that are only ever named in TLSA records.
  local k
  for k in signed insecure nomx good good-rotated stale-old stale-new left-old1 left-old2 \
    left-cur roll-cur roll-next deg1 deg2 deg2-old expired nostarttls v6-good v6-other sts \
    mtasts-expired; do
    new_key "$k"
  done
  new_key ta rsa  # the DANE-TA leaf is RSA, everything else ECDSA P-256
  for k in "${STS_DOMAINS[@]}"; do
    [[ $k == sts-expired.test ]] || new_key "mtasts-$k"
  done

  issue signed signed webpki-ca "$now_s" "$now_e" mx.signed.test mx.expiring.test mx.bogus.test
  issue insecure insecure webpki-ca "$now_s" "$now_e" mx.insecure.test mail.cname-insecure.test
  issue nomx nomx webpki-ca "$now_s" "$now_e" nomx.test
  issue good good webpki-ca "$now_s" "$now_e" mx.dane-good.test mail.cname-mx.test
  issue good-rotated good-rotated webpki-ca "$now_s" "$now_e" mx.dane-good.test mail.cname-mx.test
  issue stale-new stale-new webpki-ca "$now_s" "$now_e" mx.dane-stalekey.test
  issue left-cur left-cur webpki-ca "$now_s" "$now_e" mx.dane-leftovers.test
  issue ta ta dane-ca "$now_s" "$now_e" mx.dane-ta.test
  issue roll-cur roll-cur webpki-ca "$now_s" "$now_e" mx.dane-rollover.test
  issue deg1 deg1 webpki-ca "$now_s" "$now_e" mx1.dane-degraded.test
  issue deg2 deg2 webpki-ca "$now_s" "$now_e" mx2.dane-degraded.test
  issue expired expired webpki-ca "$old_s" "$old_e" mx.dane-expired.test
  issue v6-good v6-good webpki-ca "$now_s" "$now_e" mx.dane-v6.test
  issue v6-other v6-other webpki-ca "$now_s" "$now_e" mx.dane-v6.test
  issue sts sts webpki-ca "$now_s" "$now_e" mx.sts-enforce.test mx.sts-testing.test \
    mx.sts-changed.test mx.sts-redirect.test mx.sts-html.test mx.sts-huge.test \
    mx.sts-expired.test mx1.sts-mxmiss.test mx2.sts-mxmiss.test mx.sts-twotxt.test \
    mx.tlsrpt-bad.test mx.tlsrpt-http.test
  for k in "${STS_DOMAINS[@]}"; do
    [[ $k == sts-expired.test ]] || issue "mtasts-$k" "mtasts-$k" webpki-ca "$now_s" "$now_e" "mta-sts.$k"
  done
  issue mtasts-sts-expired.test mtasts-expired webpki-ca "$old_s" "$old_e" mta-sts.sts-expired.test

  # The expired certificates must really be expired (openssl x509 -checkend 0 fails).
  local c
  for c in expired mtasts-sts-expired.test; do
    ! openssl x509 -in "$PKI/$c.pem" -noout -checkend 0 >/dev/null || die "$c.pem is not expired"
  done

  # Postfix chain files (key first). "good" is the file the rotate-key mutation swaps.
  for k in signed insecure nomx good stale-new left-cur roll-cur deg1 deg2 expired v6-good \
    v6-other sts; do
    chain "$k.chain.pem" "$k.key" "$k.pem"
  done
  chain good-rotated.chain.pem good-rotated.key good-rotated.pem
  cp "$PKI/good.chain.pem" "$PKI/good-original.chain.pem"
  chain ta.chain.pem ta.key ta.pem dane-ca.pem
  chain nostarttls.chain.pem signed.key signed.pem  # unused: that listener has TLS off
  chmod 644 "$PKI"/*.pem
  chmod 600 "$PKI"/*.chain.pem

  # TLSA data (selector 1 SPKI, matching type 1 SHA-256), for the zone templates.
  {
    echo "SPKI_SIGNED=$(spki_sha256_of_key "$PKI/signed.key")"
    echo "SPKI_INSECURE=$(spki_sha256_of_key "$PKI/insecure.key")"
    echo "SPKI_NOMX=$(spki_sha256_of_key "$PKI/nomx.key")"
    echo "SPKI_GOOD=$(spki_sha256_of_key "$PKI/good.key")"
    echo "SPKI_GOOD_ROTATED=$(spki_sha256_of_key "$PKI/good-rotated.key")"
    echo "SPKI_STALE_OLD=$(spki_sha256_of_key "$PKI/stale-old.key")"
    echo "SPKI_STALE_NEW=$(spki_sha256_of_key "$PKI/stale-new.key")"
    echo "SPKI_LEFT_OLD1=$(spki_sha256_of_key "$PKI/left-old1.key")"
    echo "SPKI_LEFT_OLD2=$(spki_sha256_of_key "$PKI/left-old2.key")"
    echo "SPKI_LEFT_CUR=$(spki_sha256_of_key "$PKI/left-cur.key")"
    echo "SPKI_DANE_CA=$(spki_sha256_of_key "$PKI/dane-ca.key")"
    echo "SPKI_TA_LEAF=$(spki_sha256_of_key "$PKI/ta.key")"
    echo "SPKI_ROLL_CUR=$(spki_sha256_of_key "$PKI/roll-cur.key")"
    echo "SPKI_ROLL_NEXT=$(spki_sha256_of_key "$PKI/roll-next.key")"
    echo "SPKI_DEG1=$(spki_sha256_of_key "$PKI/deg1.key")"
    echo "SPKI_DEG2=$(spki_sha256_of_key "$PKI/deg2.key")"
    echo "SPKI_DEG2_OLD=$(spki_sha256_of_key "$PKI/deg2-old.key")"
    echo "SPKI_EXPIRED=$(spki_sha256_of_key "$PKI/expired.key")"
    echo "SPKI_NOSTARTTLS=$(spki_sha256_of_key "$PKI/nostarttls.key")"
    echo "SPKI_V6_GOOD=$(spki_sha256_of_key "$PKI/v6-good.key")"
    echo "SPKI_V6_OTHER=$(spki_sha256_of_key "$PKI/v6-other.key")"
    echo "SPKI_STS=$(spki_sha256_of_key "$PKI/sts.key")"
  } >"$PKI/tlsa.vars"
  make_dualcert_pki
  make_stories_pki
  cp "$PKI/tlsa.vars" "$RUN_DIR/tlsa.env"
}

# ---------------------------------------------------------------------------------------------
# DNS: Knot
zone_header() {  # zone
  cat <<EOF
\$ORIGIN $1.
\$TTL 300
@               SOA     ns.test. hostmaster.test. 1 3600 600 86400 300
@               NS      ns.test.
EOF
}

write_zones() {
  local z sed_script=$KNOT/tlsa.sed
  mkdir -p "$KNOT/zones"
  sed -E 's/^([A-Z0-9_]+)=(.*)$/s|@\1@|\2|g/' "$PKI/tlsa.vars" >"$sed_script"
  for z in "${ALL_ZONES[@]}"; do
    [[ -f $HERE/zones/$z.zone.in ]] || die "no template zones/$z.zone.in"
    { zone_header "$z"; sed -f "$sed_script" "$HERE/zones/$z.zone.in"; } >"$KNOT/zones/$z.zone"
    ! grep -q '@[A-Z0-9_]*@' "$KNOT/zones/$z.zone" || die "unsubstituted placeholder in $z"
  done
  # The parent: unsigned test. with a delegation per child, all on the same server, so one
  # stub zone for test. reaches every child.
  {
    zone_header test
    echo "ns              A       $DNS_ADDR"
    for z in "${ALL_ZONES[@]}"; do
      printf '%-15s NS      ns.test.\n' "${z%.test}"
    done
  } >"$KNOT/zones/test.zone"
}

write_knot_conf() {
  mkdir -p "$KNOT/run" "$KNOT/db" "$KNOT/keys"
  {
    cat <<EOF
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
  - id: world
    algorithm: ecdsap256sha256
    single-type-signing: on
  - id: expiring
    algorithm: ecdsap256sha256
    single-type-signing: on
    rrsig-lifetime: 12h
    rrsig-refresh: 2h

template:
  - id: default
    storage: $KNOT/zones
    file: %s.zone
    zonefile-sync: -1
    zonefile-load: whole
    journal-content: none
  - id: signed
    storage: $KNOT/zones
    file: %s.zone
    zonefile-sync: -1
    zonefile-load: whole
    journal-content: changes
    dnssec-signing: on
    dnssec-policy: world
  - id: expiring
    storage: $KNOT/zones
    file: %s.zone
    zonefile-sync: -1
    zonefile-load: whole
    journal-content: changes
    dnssec-signing: on
    dnssec-policy: expiring

zone:
  - domain: test
EOF
    local z
    for z in "${UNSIGNED_ZONES[@]}"; do echo "  - domain: $z"; done
    for z in "${SIGNED_ZONES[@]}"; do
      echo "  - domain: $z"
      if [[ $z == expiring.test ]]; then echo "    template: expiring"; else echo "    template: signed"; fi
    done
  } >"$KNOT/knot.conf"
}

start_knot() {
  write_zones
  write_knot_conf
  knotc -c "$KNOT/knot.conf" conf-check >/dev/null || die "knot config invalid"
  knotd -c "$KNOT/knot.conf" -d >>"$KNOT/knotd.out" 2>&1 || die "knotd failed, see $KNOT/knot.log"
  wait_for "knot pid file" 10 test -s "$KNOT_PID_FILE"
  KNOT_PID=$(read_pid "$KNOT_PID_FILE")
  record_pids
  local z
  for z in "${SIGNED_ZONES[@]}"; do
    wait_for "RRSIG on $z" "$START_TIMEOUT_S" zone_is_signed "$z"
  done
  wait_for "test. SOA" 10 zone_answers test
  write_anchors
}

zone_answers() {
  kdig @"$DNS_ADDR" -p "$DNS_PORT" +time=1 +retry=0 +norec SOA "$1." 2>/dev/null |
    grep -q 'status: NOERROR'
}

zone_is_signed() {
  kdig @"$DNS_ADDR" -p "$DNS_PORT" +time=1 +retry=0 +norec +dnssec DNSKEY "$1." 2>/dev/null |
    grep -qE '[[:space:]]RRSIG[[:space:]]+DNSKEY'
}

# anchors.ds: one DS (SHA-256) per signed zone from keymgr; bogus.test gets a DS with the
# right key tag and algorithm but a wrong digest (B6: "no DNSKEY matches DS").
write_anchors() {
  local z line out=$RUN_DIR/anchors.ds
  : >"$out.tmp"
  for z in "${SIGNED_ZONES[@]}"; do
    line=$(keymgr -c "$KNOT/knot.conf" "$z" ds 2>/dev/null | awk '$2 == "DS" && $5 == "2"' | head -n1)
    [[ -n $line ]] || die "keymgr gave no SHA-256 DS for $z"
    if [[ $z == bogus.test ]]; then
      line=$(awk -v d="$(echo "wrong DS for bogus.test" | openssl dgst -sha256 -r | cut -d' ' -f1)" \
        '{print $1, $2, $3, $4, $5, d}' <<<"$line")
    fi
    echo "$line" >>"$out.tmp"
  done
  mv "$out.tmp" "$out"
}

# ---------------------------------------------------------------------------------------------
# SMTP: Postfix
# Listeners: address -> chain file (or "notls").
PF_LISTENERS=(
  "127.0.1.1:smtp good.chain.pem"
  "127.0.1.2:smtp stale-new.chain.pem"
  "127.0.1.3:smtp left-cur.chain.pem"
  "127.0.1.4:smtp ta.chain.pem"
  "127.0.1.5:smtp roll-cur.chain.pem"
  "127.0.1.6:smtp deg1.chain.pem"
  "127.0.1.7:smtp deg2.chain.pem"
  "127.0.1.8:smtp expired.chain.pem"
  "127.0.1.9:smtp notls"
  "127.0.1.10:smtp v6-good.chain.pem"
  "[::1]:smtp v6-other.chain.pem"
  "127.0.1.11:smtp signed.chain.pem"
  "127.0.1.12:smtp insecure.chain.pem"
  "127.0.1.13:smtp nomx.chain.pem"
  "127.0.1.20:smtp sts.chain.pem"
)
# shellcheck source=tests/world/dualcert.sh
source "$HERE/dualcert.sh"
# shellcheck source=tests/world/stories.sh
source "$HERE/stories.sh"

write_postfix_conf() {
  mkdir -p "$PF/conf" "$PF/spool" "$PF/data"
  chown postfix "$PF/data"
  chmod 755 "$PF" "$PF/conf"
  cat >"$PF/conf/main.cf" <<EOF
# Private instance of the test world; nothing is ever delivered.
compatibility_level = 3.6
queue_directory = $PF/spool
data_directory = $PF/data
mail_owner = postfix
setgid_group = postdrop
myhostname = mx.world.test
mydomain = world.test
myorigin = \$myhostname
mydestination =
relay_domains =
alias_maps =
alias_database =
local_transport = error:no local delivery in the test world
default_transport = error:no delivery in the test world
inet_interfaces = all
inet_protocols = all
smtpd_banner = \$myhostname ESMTP mailtls test world
smtpd_relay_restrictions = reject
smtpd_recipient_restrictions = reject
smtpd_tls_security_level = may
smtpd_tls_chain_files = $PKI/signed.chain.pem
smtpd_tls_loglevel = 1
biff = no
smtputf8_enable = no
maillog_file = $PF/maillog
maillog_file_prefixes = $PF
EOF
  {
    echo "# service type  private unpriv  chroot  wakeup  maxproc command + args"
    local l addr file
    for l in "${PF_LISTENERS[@]}"; do
      addr=${l%% *}
      file=${l#* }
      if [[ $file == notls ]]; then
        echo "$addr inet n - n - - smtpd -o smtpd_tls_security_level=none"
      else
        echo "$addr inet n - n - - smtpd -o smtpd_tls_chain_files=$PKI/$file"
      fi
    done
    cat <<'EOF'
pickup    unix  n       -       n       60      1       pickup
cleanup   unix  n       -       n       -       0       cleanup
qmgr      unix  n       -       n       300     1       qmgr
tlsmgr    unix  -       -       n       1000?   1       tlsmgr
rewrite   unix  -       -       n       -       -       trivial-rewrite
bounce    unix  -       -       n       -       0       bounce
defer     unix  -       -       n       -       0       bounce
trace     unix  -       -       n       -       0       bounce
verify    unix  -       -       n       -       1       verify
flush     unix  n       -       n       1000?   0       flush
proxymap  unix  -       -       n       -       -       proxymap
proxywrite unix -       -       n       -       1       proxymap
smtp      unix  -       -       n       -       -       smtp
relay     unix  -       -       n       -       -       smtp
showq     unix  n       -       n       -       -       showq
error     unix  -       -       n       -       -       error
retry     unix  -       -       n       -       -       error
discard   unix  -       -       n       -       -       discard
local     unix  -       n       n       -       -       local
lmtp      unix  -       -       n       -       -       lmtp
anvil     unix  -       -       n       -       1       anvil
scache    unix  -       -       n       -       1       scache
postlog   unix-dgram n  -       n       -       1       postlogd
EOF
  } >"$PF/conf/master.cf"
}

start_postfix() {
  write_postfix_conf
  # postfix start reports errors to syslog only; a pseudo-terminal makes them visible.
  if ! script -qec "postfix -c $PF/conf start" /dev/null >"$PF/start.out" 2>&1; then
    cat "$PF/start.out" >&2
    die "postfix start failed (see $PF/start.out and $PF/maillog)"
  fi
  wait_for "postfix master pid" 10 test -s "$PF_PID_FILE"
  PF_PID=$(read_pid "$PF_PID_FILE")
  record_pids
  local l addr
  for l in "${PF_LISTENERS[@]}"; do
    addr=${l%%:smtp*}
    addr=${addr#[}
    addr=${addr%]}
    wait_for "smtp banner on $addr" "$START_TIMEOUT_S" smtp_banner "$addr"
  done
}

smtp_banner() {  # address: a 220 greeting arrives within 2 s
  local out
  out=$(timeout 3 bash -c "exec 3<>/dev/tcp/$1/25; head -c 4 <&3; printf 'QUIT\r\n' >&3" 2>/dev/null) || return 1
  [[ $out == "220 " ]]
}

# ---------------------------------------------------------------------------------------------
# MTA-STS: nginx
policy_body() {  # domain
  case $1 in
    sts-testing.test) printf 'version: STSv1\r\nmode: testing\r\nmx: *.sts-testing.test\r\nmax_age: 86400\r\n' ;;
    sts-mxmiss.test) printf 'version: STSv1\nmode: enforce\nmx: mx1.sts-mxmiss.test\nmax_age: 86400\n' ;;
    story-*) story_policy_body "$1" ;;
    sts-huge.test)
      printf 'version: STSv1\nmode: enforce\nmx: mx.sts-huge.test\nmax_age: 86400\n'
      local i
      for ((i = 0; i < 3000; i++)); do printf 'mx: filler%04d.sts-huge.test\n' "$i"; done
      ;;
    *) printf 'version: STSv1\nmode: enforce\nmx: mx.%s\nmax_age: 86400\n' "$1" ;;
  esac
}

# The changed body of sts-changed.test (mutate sts-content): new mx line and max_age, same id.
policy_body_changed() {
  printf 'version: STSv1\nmode: enforce\nmx: mx.sts-changed.test\nmx: mx-new.sts-changed.test\nmax_age: 604800\n'
}

write_nginx_conf() {
  mkdir -p "$NGX/tmp" "$NGX/www"
  local d
  for d in "${STS_DOMAINS[@]}"; do
    mkdir -p "$NGX/www/$d/.well-known"
    policy_body "$d" >"$NGX/www/$d/.well-known/mta-sts.txt"
  done
  local huge_size
  huge_size=$(stat -c %s "$NGX/www/sts-huge.test/.well-known/mta-sts.txt")
  ((huge_size > 65536)) || die "sts-huge policy is only $huge_size bytes"
  {
    cat <<EOF
# nginx for the MTA-STS policy hosts of the test world; every file under $NGX.
user root;
worker_processes 1;
daemon on;
pid $NGX_PID_FILE;
error_log $NGX/error.log info;
events { worker_connections 64; }
http {
    access_log $NGX/access.log;
    client_body_temp_path $NGX/tmp/body;
    proxy_temp_path $NGX/tmp/proxy;
    fastcgi_temp_path $NGX/tmp/fastcgi;
    uwsgi_temp_path $NGX/tmp/uwsgi;
    scgi_temp_path $NGX/tmp/scgi;
    types { text/plain txt; text/html html; }
    default_type application/octet-stream;
    ssl_protocols TLSv1.2 TLSv1.3;
EOF
    for d in "${STS_DOMAINS[@]}"; do
      echo "    server {"
      echo "        listen ${STS_ADDR[$d]}:443 ssl;"
      echo "        server_name mta-sts.$d;"
      echo "        ssl_certificate $PKI/mtasts-$d.pem;"
      if [[ $d == sts-expired.test ]]; then
        echo "        ssl_certificate_key $PKI/mtasts-expired.key;"
      else
        echo "        ssl_certificate_key $PKI/mtasts-$d.key;"
      fi
      echo "        root $NGX/www/$d;"
      case $d in
        sts-redirect.test)
          echo "        location = /.well-known/mta-sts.txt {"
          echo "            return 301 https://mta-sts.sts-enforce.test/.well-known/mta-sts.txt;"
          echo "        }"
          ;;
        sts-html.test)
          echo "        location = /.well-known/mta-sts.txt { types { } default_type text/html; }"
          ;;
      esac
      echo "    }"
    done
    echo "}"
  } >"$NGX/nginx.conf"
}

start_nginx() {
  write_nginx_conf
  nginx -t -q -p "$NGX/" -c "$NGX/nginx.conf" -e "$NGX/error.log" 2>>"$NGX/start.out" ||
    die "nginx config invalid (see $NGX/start.out)"
  nginx -p "$NGX/" -c "$NGX/nginx.conf" -e "$NGX/error.log" 2>>"$NGX/start.out" ||
    die "nginx failed to start (see $NGX/start.out)"
  wait_for "nginx pid file" 10 test -s "$NGX_PID_FILE"
  NGX_PID=$(read_pid "$NGX_PID_FILE")
  record_pids
  local d
  for d in "${STS_DOMAINS[@]}"; do
    wait_for "https on ${STS_ADDR[$d]}" "$START_TIMEOUT_S" \
      bash -c "exec 3<>/dev/tcp/${STS_ADDR[$d]}/443" 2>/dev/null
  done
}

# ---------------------------------------------------------------------------------------------
# Outputs: world.env, exporter.yaml, unbound.conf
record_pids() {
  cat >"$ENV_FILE.tmp" <<EOF
WORLD_DIR=$RUN_DIR
DNS_ADDR=$DNS_ADDR
DNS_PORT=$DNS_PORT
ANCHORS_FILE=$RUN_DIR/anchors.ds
WEBPKI_CA_FILE=$PKI/webpki-ca.pem
DANE_CA_FILE=$PKI/dane-ca.pem
UNBOUND_CONF=$RUN_DIR/unbound.conf
EXPORTER_CONFIG=$RUN_DIR/exporter.yaml
TLSA_ENV=$RUN_DIR/tlsa.env
KNOT_CONF=$KNOT/knot.conf
POSTFIX_CONFIG_DIR=$PF/conf
NGINX_CONF=$NGX/nginx.conf
KNOT_PID=${KNOT_PID:-}
POSTFIX_PID=${PF_PID:-}
NGINX_PID=${NGX_PID:-}
EOF
  mv "$ENV_FILE.tmp" "$ENV_FILE"
}

write_exporter_yaml() {
  local d
  {
    cat <<EOF
# Generated by tests/world/world.sh for the local test world in $RUN_DIR.
defaults:
  interval: 60s
  timeout: 20s
resolver:
  use_resolv_conf: false
  root_trust_anchor_file: ""
  stub_zones:
    - zone: test
      addresses: ["$DNS_ADDR@$DNS_PORT"]
  trust_anchor_files: ["$RUN_DIR/anchors.ds"]
  self_test_secure_name: signed.test
  self_test_bogus_name: bogus.test
smtp:
  ehlo_name: probe.mailtls.test
  port: 25
  probe_special_addresses: true  # every world address is loopback
tls:
  ca_files: ["$PKI/webpki-ca.pem"]
domains:
EOF
    for d in "${ALL_ZONES[@]}"; do echo "  - name: $d"; done
  } >"$RUN_DIR/exporter.yaml"
  # The same resolver settings as an unbound/libunbound config (ub_ctx_config, unbound -c).
  cat >"$RUN_DIR/unbound.conf" <<EOF
server:
    do-not-query-localhost: no
    local-zone: "test." nodefault
    trust-anchor-file: "$RUN_DIR/anchors.ds"
    val-log-level: 2
stub-zone:
    name: "test."
    stub-addr: $DNS_ADDR@$DNS_PORT
EOF
}

# ---------------------------------------------------------------------------------------------
wait_for() {  # what seconds command...
  local what=$1 secs=$2
  shift 2
  local deadline=$((SECONDS + secs))
  until "$@"; do
    ((SECONDS < deadline)) || die "timed out after ${secs}s waiting for $what"
    sleep 0.2
  done
}

load_env_pids() {
  KNOT_PID="" PF_PID="" NGX_PID=""
  if [[ -f $ENV_FILE ]]; then
    KNOT_PID=$(sed -n 's/^KNOT_PID=//p' "$ENV_FILE")
    PF_PID=$(sed -n 's/^POSTFIX_PID=//p' "$ENV_FILE")
    NGX_PID=$(sed -n 's/^NGINX_PID=//p' "$ENV_FILE")
  fi
  # A start that died before recording a PID may still have left a pid file behind.
  [[ -n $KNOT_PID ]] || KNOT_PID=$(read_pid "$KNOT_PID_FILE")
  [[ -n $PF_PID ]] || PF_PID=$(read_pid "$PF_PID_FILE")
  [[ -n $NGX_PID ]] || NGX_PID=$(read_pid "$NGX_PID_FILE")
}

# Stop one recorded PID (only if it is still the program we started) and wait for it to go.
stop_pid() {  # name pid expected-comm
  local name=$1 pid=$2 comm=$3
  pid_alive "$pid" || return 0
  if [[ $(cat "/proc/$pid/comm" 2>/dev/null) != "$comm" ]]; then
    log "$name: PID $pid is not $comm any more, leaving it alone"
    return 0
  fi
  kill -TERM "$pid" 2>/dev/null || true
  local deadline=$((SECONDS + 10))
  while pid_alive "$pid" && ((SECONDS < deadline)); do sleep 0.1; done
  if pid_alive "$pid"; then
    log "$name: PID $pid ignored SIGTERM, sending SIGKILL"
    kill -KILL "$pid" 2>/dev/null || true
  fi
  log "stopped $name (PID $pid)"
}

cmd_stop() {
  load_env_pids
  # Postfix first by its own command (it stops its children), then by the recorded PID.
  if pid_alive "$PF_PID" && [[ -f $PF/conf/main.cf ]]; then
    script -qec "postfix -c $PF/conf stop" /dev/null >/dev/null 2>&1 || true
    local deadline=$((SECONDS + 10))
    while pid_alive "$PF_PID" && ((SECONDS < deadline)); do sleep 0.1; done
    pid_alive "$PF_PID" || log "stopped postfix (PID $PF_PID) with postfix stop"
  fi
  stop_pid postfix "$PF_PID" master
  stop_pid nginx "$NGX_PID" nginx
  stop_pid knot "$KNOT_PID" knotd
  KNOT_PID="" PF_PID="" NGX_PID=""
  [[ ! -f $ENV_FILE ]] || record_pids
  log "stopped"
}

running_state() {  # sets WORLD_STATE to all|none|partial
  load_env_pids
  local alive=0
  if pid_alive "$KNOT_PID"; then alive=$((alive + 1)); fi
  if pid_alive "$PF_PID"; then alive=$((alive + 1)); fi
  if pid_alive "$NGX_PID"; then alive=$((alive + 1)); fi
  case $alive in 3) WORLD_STATE=all ;; 0) WORLD_STATE=none ;; *) WORLD_STATE=partial ;; esac
}

cmd_start() {
  [[ $(id -u) == 0 ]] || die "run as root (ports 25 and 443, postfix)"
  running_state
  if [[ $WORLD_STATE == all && -f $RUN_DIR/exporter.yaml ]]; then
    log "already running in $RUN_DIR"
    return 0
  fi
  if [[ $WORLD_STATE != none ]]; then
    log "partially running; stopping the rest first"
    cmd_stop
  fi
  # Only what this script creates is removed; the run directory itself may hold other files.
  rm -rf "$PKI" "$KNOT" "$PF" "$NGX" "$ENV_FILE" "$RUN_DIR/anchors.ds" \
    "$RUN_DIR/exporter.yaml" "$RUN_DIR/unbound.conf" "$RUN_DIR/tlsa.env"
  mkdir -p "$KNOT" "$PF" "$NGX"
  chmod 755 "$RUN_DIR"
  KNOT_PID="" PF_PID="" NGX_PID=""
  record_pids
  # A failure part-way leaves recorded PIDs behind; stop those before reporting it.
  trap 'rc=$?; if ((rc != 0)); then log "start failed, stopping what was started"; cmd_stop; fi' EXIT
  local t0=$SECONDS
  make_pki
  start_knot
  start_postfix
  start_nginx
  write_exporter_yaml
  record_pids
  trap - EXIT
  log "started in $((SECONDS - t0))s: knot $KNOT_PID, postfix $PF_PID, nginx $NGX_PID; env in $ENV_FILE"
}

cmd_status() {
  running_state
  echo "run dir: $RUN_DIR"
  printf 'knot    %-8s %s\n' "${KNOT_PID:--}" "$(pid_alive "$KNOT_PID" && echo running || echo stopped)"
  printf 'postfix %-8s %s\n' "${PF_PID:--}" "$(pid_alive "$PF_PID" && echo running || echo stopped)"
  printf 'nginx   %-8s %s\n' "${NGX_PID:--}" "$(pid_alive "$NGX_PID" && echo running || echo stopped)"
  echo "state: $WORLD_STATE"
  [[ $WORLD_STATE == all ]]
}

# ---------------------------------------------------------------------------------------------
# Mutations
served_spki() {  # address [port]: SHA-256 of the SPKI the SMTP server presents after STARTTLS
  timeout 10 openssl s_client -starttls smtp -connect "$1:25" -servername probe </dev/null 2>/dev/null |
    openssl x509 -noout -pubkey 2>/dev/null | openssl pkey -pubin -outform DER 2>/dev/null |
    openssl dgst -sha256 -r | cut -d' ' -f1
}

swap_chain() {  # served chain file, its address, source chain file, SPKI; Postfix serves it on return
  local dst=$1 addr=$2 src=$3 want=$4
  cp "$PKI/$src" "$PKI/$dst.new"
  chmod 600 "$PKI/$dst.new"
  mv "$PKI/$dst.new" "$PKI/$dst"
  script -qec "postfix -c $PF/conf reload" /dev/null >/dev/null 2>&1 || die "postfix reload failed"
  local deadline=$((SECONDS + 30)) got=""
  while ((SECONDS < deadline)); do
    got=$(served_spki "$addr")
    [[ $got == "$want" ]] && return 0
    sleep 0.5
  done
  die "$addr still serves SPKI $got, want $want"
}

cmd_mutate() {  # mutate|restore what
  local action=$1 what=${2:-}
  running_state
  [[ $WORLD_STATE == all ]] || die "the world is not running"
  # shellcheck disable=SC1091
  source "$PKI/tlsa.vars"
  case "$action:$what" in
    mutate:rotate-key)
      # A renewal as certbot does it: a new key and a certificate issued now, so its notBefore
      # is later than the TLSA RRset the exporter saw (F1).
      issue good-rotated good-rotated webpki-ca "$(utc "-1 second")" "$(utc "+90 days")" \
        mx.dane-good.test mail.cname-mx.test
      chain good-rotated.chain.pem good-rotated.key good-rotated.pem
      swap_chain good.chain.pem 127.0.1.1 good-rotated.chain.pem "$SPKI_GOOD_ROTATED"
      ;;
    restore:rotate-key) swap_chain good.chain.pem 127.0.1.1 good-original.chain.pem "$SPKI_GOOD" ;;
    mutate:sts-content)
      policy_body_changed >"$NGX/www/sts-changed.test/.well-known/mta-sts.txt.new"
      mv "$NGX/www/sts-changed.test/.well-known/mta-sts.txt.new" "$NGX/www/sts-changed.test/.well-known/mta-sts.txt"
      ;;
    restore:sts-content)
      policy_body sts-changed.test >"$NGX/www/sts-changed.test/.well-known/mta-sts.txt.new"
      mv "$NGX/www/sts-changed.test/.well-known/mta-sts.txt.new" "$NGX/www/sts-changed.test/.well-known/mta-sts.txt"
      ;;
    *:story-* | restore:stories) story_mutate "$action" "$what" ;;
    *) die "unknown: $action '$what' (known: rotate-key, sts-content, the story-* of stories.sh)" ;;
  esac
  log "$action $what: done"
}

usage() {
  echo "usage: $0 start|stop|status|mutate <rotate-key|sts-content|story-*>|restore <rotate-key|sts-content|stories>" >&2
  exit 2
}

set_paths
case ${1:-} in
  start) cmd_start ;;
  stop) cmd_stop ;;
  status) cmd_status ;;
  mutate | restore) cmd_mutate "$1" "${2:-}" ;;
  *) usage ;;
esac
