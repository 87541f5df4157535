#!/usr/bin/env bash
# Our MTA-STS verdict against Debian's postfix-mta-sts-resolver (mta-sts-query), the policy
# source a Postfix MTA-STS deployment uses, on every MTA-STS scenario of the world. It runs in
# a private mount namespace whose resolv.conf points at a validating unbound for the world, with
# the world's CA added to the trusted roots. Mapping:
#   resolver VALID (id, mode, mx)  <->  we fetched a valid policy with the same id, mode and mx
#                                      patterns (status enforced/testing/degraded by MX checks)
#   resolver FETCH_ERROR           <->  fetch failed, status broken
#   resolver NONE                  <->  no usable STS TXT: status not_deployed or invalid
# Usage: mtasts_vs_resolver.sh <mailtls_exporter binary>. Needs the world running.
set -uo pipefail
exporter=${1:?usage: $0 <mailtls_exporter binary>}
here=$(cd "$(dirname "$0")" && pwd)
RUN_DIR=${MAILTLS_WORLD_DIR:-$(cd "$here/../.." && pwd)/.world}
[[ -s $RUN_DIR/world.env ]] || { echo "the world is not running: tests/world/world.sh start" >&2; exit 1; }
# shellcheck disable=SC1091
source "$RUN_DIR/world.env"
command -v mta-sts-query >/dev/null || { echo "postfix-mta-sts-resolver is not installed" >&2; exit 1; }
# shellcheck source=tests/world/posttls_finger_ref.sh
source "$here/../world/posttls_finger_ref.sh"
bundle=$(mktemp)
ours_file=$(mktemp)
trap 'stop_ref_unbound; rm -f "$bundle" "$ours_file"' EXIT
cat /etc/ssl/certs/ca-certificates.crt "$WEBPKI_CA_FILE" >"$bundle"

passed=0 failed=0
ok() { passed=$((passed + 1)); echo "ok   $*"; }
bad() { failed=$((failed + 1)); echo "FAIL $1${2:+: $2}"; }

ref_setup || { echo "cannot start the reference resolver (see $REF)" >&2; exit 1; }

domains=(sts-enforce.test sts-testing.test sts-changed.test sts-redirect.test sts-html.test sts-huge.test
  sts-expired.test sts-mxmiss.test sts-twotxt.test dane-good.test)
"$exporter" --config.file "$RUN_DIR/exporter.yaml" check --output=json "${domains[@]}" 2>/dev/null >"$ours_file"

for d in "${domains[@]}"; do
  theirs=$(unshare -m sh -c 'mount --bind "$1" /etc/resolv.conf && SSL_CERT_FILE="$2" timeout 30 mta-sts-query -v error "$3"' \
    sh "$REF/resolv.conf" "$bundle" "$d" 2>/dev/null | tail -n1)
  verdict=$(python3 - "$d" "$theirs" "$ours_file" <<'PY'
import ast, json, re, sys
domain, theirs, ours_file = sys.argv[1], sys.argv[2], sys.argv[3]
r = next(x for x in json.load(open(ours_file))["domains"] if x["domain"] == domain)
m, status = r["mtasts"], r["mtasts_status"]
kind = re.search(r"STSFetchResult\.(\w+)", theirs)
kind = kind.group(1) if kind else "UNPARSED"
if kind == "VALID":
    pid, pol = ast.literal_eval(theirs.split(", ", 1)[1][:-1])
    same = (m["fetch_ok"] and m["id"] == pid and m["mode"] == pol["mode"] and
            sorted(m["mx"]) == sorted(pol["mx"]) and m["max_age"] == pol["max_age"])
    ok = same and status in ("enforced", "testing", "degraded", "broken")
    print("ok" if ok else "bad", f"resolver VALID id={pid} mode={pol['mode']} mx={pol['mx']}; ours {status} id={m['id']} mode={m['mode']} mx={m['mx']}")
elif kind == "FETCH_ERROR":
    ok = not m["fetch_ok"] and status == "broken"
    print("ok" if ok else "bad", f"resolver FETCH_ERROR; ours {status}, fetch_ok={m['fetch_ok']}")
elif kind == "NONE":
    ok = status in ("not_deployed", "invalid")
    print("ok" if ok else "bad", f"resolver NONE; ours {status}")
else:
    print("bad", f"cannot read the resolver's answer: {theirs!r}")
PY
)
  if [[ $verdict == ok* ]]; then ok "$d: ${verdict#ok }"; else bad "$d" "${verdict#bad }"; fi
done

echo "$passed passed, $failed failed"
[[ $failed == 0 ]]
