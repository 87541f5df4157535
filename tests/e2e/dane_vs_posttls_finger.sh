#!/usr/bin/env bash
# Our DANE verdict against Postfix's own (posttls-finger -l dane), address by address, for
# every DANE scenario of the world: where Postfix says "Verified TLS connection established"
# we must say dane_match 1, and the other way round; where Postfix's lookup fails we must say
# bogus. Every key type (T14): where we matched the chains of two key types at an address,
# posttls-finger limited to each key type's signature algorithms must agree with each; where
# we found the other key type not offered, posttls-finger limited to it must get no TLS at all.
# Usage: dane_vs_posttls_finger.sh <mailtls_exporter binary>. Needs the world running.
set -uo pipefail
exporter=${1:?usage: $0 <mailtls_exporter binary>}
here=$(cd "$(dirname "$0")" && pwd)
RUN_DIR=${MAILTLS_WORLD_DIR:-$(cd "$here/../.." && pwd)/.world}
[[ -s $RUN_DIR/world.env ]] || { echo "the world is not running: tests/world/world.sh start" >&2; exit 1; }
# shellcheck disable=SC1091
source "$RUN_DIR/world.env"
# shellcheck source=tests/world/posttls_finger_ref.sh
source "$here/../world/posttls_finger_ref.sh"
trap stop_ref_unbound EXIT

passed=0 failed=0
ok() { passed=$((passed + 1)); echo "ok   $*"; }
bad() { failed=$((failed + 1)); echo "FAIL $1${2:+: $2}"; }

ref_setup || { echo "cannot start the reference resolver (see $REF)" >&2; exit 1; }

domains=(signed.test insecure.test bogus.test expiring.test cname-mx.test cname-insecure.test nomx.test
  dane-good.test dane-stalekey.test dane-leftovers.test dane-ta.test dane-rollover.test
  dane-degraded.test dane-expired.test dane-nostarttls.test dane-v6.test dane-dualcert.test)
ours=$("$exporter" --config.file "$RUN_DIR/exporter.yaml" check --output=json "${domains[@]}" 2>/dev/null)

# One line per address: domain mx address family dane_applies dane_match, plus domain status lines.
rows=$(python3 -c '
import json, sys
for r in json.loads(sys.stdin.read())["domains"]:
    print("domain", r["domain"], r["dane_status"])
    for m in r.get("mx") or []:
        for a in m.get("addresses") or []:
            fam = "ipv6" if ":" in a["address"] else "ipv4"
            dm = a.get("dane_match")
            kts = a.get("key_types") or []
            if len(kts) >= 2:
                # Two key types: posttls-finger without limits negotiates what our
                # unrestricted handshake got; dane_match covers both (compared per key type below).
                dm = kts[0]["dane_match"]
            print("addr", r["domain"], m["host"], a["address"], fam, "none" if dm is None else int(dm), len(r.get("mx") or []))
            if len(kts) >= 2:
                for k in kts:
                    print("keytype", r["domain"], m["host"], a["address"], fam, k["key_type"], int(k["dane_match"]))
            if a.get("other_key_type") == "not_offered" and a.get("key_type"):
                other = "rsa" if a["key_type"] == "ecdsa" else "ecdsa"
                print("notoffered", r["domain"], m["host"], a["address"], fam, other, "-")
' <<<"$ours")

while read -r kind domain a b c d e; do
  if [[ $kind == domain ]]; then
    status=$a
    out=$(ptf -c -l dane "$domain")
    if [[ $status == bogus ]]; then
      if grep -q "lookup failed\|Temporary lookup failure\|DNSSEC" <<<"$out" && ! grep -q "Verified TLS" <<<"$out"; then
        ok "$domain: bogus, and posttls-finger's lookup fails too"
      else
        bad "$domain: we say bogus" "posttls-finger: $(head -n3 <<<"$out" | tr '\n' ' ')"
      fi
    fi
    continue
  fi
  mx=$a address=$b family=$c ours_match=$d mx_count=$e
  # Bracketed host: no MX lookup, TLSA for that host; the domain itself for CNAME'd or
  # implicit MX hosts, where the TLSA base domain comes from the MX name's expansion.
  target="[$mx]"
  [[ $mx == "$domain" || $domain == cname-* ]] && target=$domain
  if [[ $kind == keytype || $kind == notoffered ]]; then
    key_type=$d
    out=$(ptf_key_type "$key_type" -c -l dane -a "$family" "$target")
    what="$domain $mx $address $key_type"
    if [[ $kind == notoffered ]]; then
      if [[ $(ptf_tls_result <<<"$out") != none ]]; then
        bad "$what: we say not offered, Postfix limited to $key_type got TLS" "$(grep 'established' <<<"$out" | head -n1)"
      else
        ok "$what: not offered, and Postfix limited to $key_type gets no TLS"
      fi
      continue
    fi
    if [[ $(ptf_tls_result <<<"$out") == verified ]]; then pf=1; else pf=0; fi
    if [[ $e == "$pf" ]]; then
      ok "$what: key type match=$e, and Postfix limited to $key_type agrees"
    else
      bad "$what: ours key type match=$e, posttls-finger=$pf" "$(grep -E 'Verified|Untrusted|no matching|failed' <<<"$out" | head -n2 | tr '\n' ' ')"
    fi
    continue
  fi
  out=$(ptf -c -l dane -a "$family" "$target")
  case $(ptf_tls_result <<<"$out") in verified) pf=1 ;; tls) pf=untrusted ;; *) pf=0 ;; esac
  what="$domain $mx $address"
  case "$ours_match:$pf" in
    1:1) ok "$what: DANE match, and Postfix verifies" ;;
    0:0 | 0:untrusted) ok "$what: no DANE match, and Postfix does not verify ($pf)" ;;
    none:untrusted | none:0) ok "$what: DANE does not apply, and Postfix does not verify ($pf)" ;;
    *) bad "$what: ours dane_match=$ours_match, posttls-finger=$pf" "$(grep -E 'Verified|Untrusted|Anonymous|no matching|failed|STARTTLS' <<<"$out" | head -n2 | tr '\n' ' ')" ;;
  esac
done <<<"$rows"

echo "$passed passed, $failed failed"
[[ $failed == 0 ]]
