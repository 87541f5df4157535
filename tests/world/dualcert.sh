# Sourced by world.sh: the dual-certificate scenario (docs/verdicts.md T14, B10). One Postfix
# listener holds an ECDSA and an RSA key, each with its own certificate for
# mx.dane-dualcert.test (smtpd_tls_chain_files with two key+chain pairs in one file); the
# TLSA RRset names only the ECDSA key. A sender offered the ECDSA certificate verifies, one
# offered the RSA certificate (a client without ECDSA signature algorithms) fails.
# Tests and the exporter read SPKI_DUAL_EC / SPKI_DUAL_RSA from <run>/tlsa.env.

SIGNED_ZONES+=(dane-dualcert.test)
ALL_ZONES+=(dane-dualcert.test)
PF_LISTENERS+=("127.0.1.14:smtp dual.chain.pem")

make_dualcert_pki() {  # called by make_pki, before tlsa.vars is copied
  local s e
  s=$(utc "-1 hour")
  e=$(utc "+90 days")
  new_key dual-ec
  new_key dual-rsa rsa
  issue dual-ec dual-ec webpki-ca "$s" "$e" mx.dane-dualcert.test
  issue dual-rsa dual-rsa webpki-ca "$s" "$e" mx.dane-dualcert.test
  chain dual.chain.pem dual-ec.key dual-ec.pem dual-rsa.key dual-rsa.pem
  chmod 644 "$PKI/dual-ec.pem" "$PKI/dual-rsa.pem"
  {
    echo "SPKI_DUAL_EC=$(spki_sha256_of_key "$PKI/dual-ec.key")"
    echo "SPKI_DUAL_RSA=$(spki_sha256_of_key "$PKI/dual-rsa.key")"
  } >>"$PKI/tlsa.vars"
}
