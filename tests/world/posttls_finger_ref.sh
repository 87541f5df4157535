# Sourced, not run: a reference DANE verdict from Postfix itself. A validating unbound on
# 127.0.3.53:53 (same anchors and stub as the exporter), and posttls-finger in a private mount
# namespace whose /etc/resolv.conf points at it, so the system resolver Postfix uses validates
# against the world. Needs RUN_DIR, ANCHORS_FILE, POSTFIX_CONFIG_DIR, DNS_ADDR, DNS_PORT (from
# <run>/world.env), and ok/bad functions when ref_expect is used. The caller traps
# stop_ref_unbound on EXIT.
REF=$RUN_DIR/reftest
REF_UNBOUND_PID=""
stop_ref_unbound() {
  if [[ -n $REF_UNBOUND_PID ]] && kill -0 "$REF_UNBOUND_PID" 2>/dev/null; then
    kill -TERM "$REF_UNBOUND_PID"
    for _ in $(seq 50); do kill -0 "$REF_UNBOUND_PID" 2>/dev/null || break; sleep 0.1; done
  fi
  REF_UNBOUND_PID=""
}
ref_setup() {
  [[ -n $RUN_DIR && -n $ANCHORS_FILE && -n $POSTFIX_CONFIG_DIR ]] || return 1
  rm -rf "$REF"
  mkdir -p "$REF/pf"
  {
    echo "server:"
    echo "    interface: 127.0.3.53"
    echo "    port: 53"
    echo "    do-not-query-localhost: no"
    echo "    local-zone: \"test.\" nodefault"
    echo "    username: \"\""
    echo "    chroot: \"\""
    echo "    directory: \"$REF\""
    echo "    pidfile: \"$REF/unbound.pid\""
    echo "    use-syslog: no"
    echo "    logfile: \"$REF/unbound.log\""
    echo "    trust-anchor-file: \"$ANCHORS_FILE\""
    echo "stub-zone:"
    echo "    name: \"test.\""
    echo "    stub-addr: $DNS_ADDR@$DNS_PORT"
  } >"$REF/unbound.conf"
  # glibc passes the AD bit on only with trust-ad.
  printf 'nameserver 127.0.3.53\noptions edns0 trust-ad\n' >"$REF/resolv.conf"
  printf '%s\n' "compatibility_level = 3.6" "smtp_dns_support_level = dnssec" \
    "smtp_tls_security_level = dane" "dnssec_probe =" >"$REF/pf/main.cf"
  cp "$POSTFIX_CONFIG_DIR/master.cf" "$REF/pf/"
  unshare -m true 2>/dev/null || return 1
  unbound-checkconf "$REF/unbound.conf" >/dev/null 2>&1 || return 1
  unbound -c "$REF/unbound.conf" 2>>"$REF/unbound.out" || return 1
  for _ in $(seq 50); do [[ -s $REF/unbound.pid ]] && break; sleep 0.1; done
  REF_UNBOUND_PID=$(cat "$REF/unbound.pid" 2>/dev/null)
  [[ -n $REF_UNBOUND_PID ]]
}
ptf() {  # posttls-finger args... (in the private mount namespace)
  # shellcheck disable=SC2016  # expanded by the inner sh
  unshare -m sh -c 'mount --bind "$1" /etc/resolv.conf && MAIL_CONFIG=$2 && export MAIL_CONFIG && shift 2 && exec timeout 30 posttls-finger "$@"' \
    sh "$REF/resolv.conf" "$REF/pf" "$@" 2>&1
}
ref_expect() {  # pattern args...: posttls-finger output matches the pattern
  local pattern=$1
  shift
  local out
  out=$(ptf "$@")
  if grep -qE "$pattern" <<<"$out"; then ok "posttls-finger $*: /$pattern/"; else
    bad "posttls-finger $*" "no /$pattern/ in: $(grep -E 'Verified|Untrusted|verification failed|failed|STARTTLS' <<<"$out" | head -n2 | tr '\n' ' ')"
  fi
}
ptf_key_type() {  # ecdsa|rsa posttls-finger args...: offering only that key type's signature algorithms
  # Postfix has no setting for the client's signature algorithms; OpenSSL's own configuration
  # (OPENSSL_CONF, system_default section) limits them for every SSL_CTX it creates.
  local kt=$1 algs
  shift
  case $kt in
    ecdsa) algs="ECDSA+SHA256:ECDSA+SHA384:ECDSA+SHA512" ;;
    rsa) algs="RSA-PSS+SHA256:RSA-PSS+SHA384:RSA-PSS+SHA512:RSA+SHA256:RSA+SHA384:RSA+SHA512" ;;
    *) return 2 ;;
  esac
  printf '%s\n' "openssl_conf = openssl_init" "[openssl_init]" "ssl_conf = ssl_sect" "[ssl_sect]" \
    "system_default = system_default_sect" "[system_default_sect]" "SignatureAlgorithms = $algs" \
    >"$REF/openssl-$kt.cnf"
  OPENSSL_CONF=$REF/openssl-$kt.cnf ptf "$@"
}
ptf_tls_result() {  # posttls-finger output on stdin -> verified | tls (not verified) | none (no TLS)
  local out
  out=$(cat)
  if grep -q "Verified TLS connection established" <<<"$out"; then echo verified
  elif grep -q "TLS connection established" <<<"$out"; then echo tls
  else echo none; fi
}
