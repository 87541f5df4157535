# Sourced by world.sh: the domains, servers and mutations of the sender-cache stories
# (tests/e2e/stories/stories_test.sh, docs/stories-test.md; docs/verdicts.md T12 and P7).
#   story-roll.test  story 1: a TLSA key rollover done right (publish the next record, wait
#                    2 x TTL, switch the key, retire the old record); MX at 127.0.1.15
#   story-fast.test  story 2: the same rollover with the key switched at once; 127.0.1.16
#   story-sts.test   story 3: an MX host added while senders still hold an enforce policy that
#                    does not list it; MX hosts at 127.0.1.17, policy host 127.0.2.10;
#                    story 5: then its _mta-sts TXT record removed without mode: none first
#   story-down.test  story 6: an enforce policy downgraded to testing while senders may still
#                    hold it; MX host on story-sts.test's listener, policy host 127.0.2.11
# Story 4 is dane-dualcert.test (dualcert.sh) as it is. Times are short so that the stories
# run in real time: the TLSA TTL of the rollover domains is STORY_TLSA_TTL seconds, and in
# story-sts.test and story-down.test the MX and TXT TTLs are 1 s and the policies' max_age is
# STORY_STS_MAX_AGE.
# Mutations (world.sh mutate <what>; world.sh restore stories puts all of them back):
#   story-roll-publish, story-fast-publish   publish the next key's TLSA record
#   story-roll-switch, story-fast-switch     the MX serves the next key
#   story-roll-retire, story-fast-retire     remove the old key's TLSA record
#   story-sts-add-mx                         MX mx2 added, and at once the policy lists it
#                                            (new body, new id)
#   story-sts-withdraw                       the _mta-sts TXT record removed, without a
#                                            mode: none policy served first
#   story-down-downgrade                     story-down.test's policy made mode: testing,
#                                            then its id changed
# shellcheck shell=bash

STORY_TLSA_TTL=8
STORY_STS_MAX_AGE=30
SIGNED_ZONES+=(story-roll.test story-fast.test story-sts.test story-down.test)
ALL_ZONES+=(story-roll.test story-fast.test story-sts.test story-down.test)
PF_LISTENERS+=("127.0.1.15:smtp story-roll.chain.pem" "127.0.1.16:smtp story-fast.chain.pem"
  "127.0.1.17:smtp story-sts.chain.pem")
STS_DOMAINS+=(story-sts.test story-down.test)
STS_ADDR["story-sts.test"]=127.0.2.10  # STS_ADDR is world.sh's associative array
STS_ADDR["story-down.test"]=127.0.2.11
declare -A STORY_ADDR=([story-roll]=127.0.1.15 [story-fast]=127.0.1.16)

make_stories_pki() {  # called by make_pki, before tlsa.vars is copied
  local s e st
  s=$(utc "-1 hour")
  e=$(utc "+90 days")
  for st in story-roll story-fast; do
    new_key "$st-cur"
    new_key "$st-next"
    issue "$st-cur" "$st-cur" webpki-ca "$s" "$e" "mx.$st.test"
    issue "$st-next" "$st-next" webpki-ca "$s" "$e" "mx.$st.test"
    chain "$st-cur.chain.pem" "$st-cur.key" "$st-cur.pem"
    chain "$st-next.chain.pem" "$st-next.key" "$st-next.pem"
    cp "$PKI/$st-cur.chain.pem" "$PKI/$st.chain.pem"
  done
  new_key story-sts
  issue story-sts story-sts webpki-ca "$s" "$e" mx1.story-sts.test mx2.story-sts.test mx.story-down.test
  chain story-sts.chain.pem story-sts.key story-sts.pem
  chmod 644 "$PKI"/story-*.pem
  chmod 600 "$PKI"/story-*.chain.pem
  {
    echo "SPKI_STORY_ROLL_CUR=$(spki_sha256_of_key "$PKI/story-roll-cur.key")"
    echo "SPKI_STORY_ROLL_NEXT=$(spki_sha256_of_key "$PKI/story-roll-next.key")"
    echo "SPKI_STORY_FAST_CUR=$(spki_sha256_of_key "$PKI/story-fast-cur.key")"
    echo "SPKI_STORY_FAST_NEXT=$(spki_sha256_of_key "$PKI/story-fast-next.key")"
    echo "STORY_TLSA_TTL=$STORY_TLSA_TTL"
    echo "STORY_STS_MAX_AGE=$STORY_STS_MAX_AGE"
  } >>"$PKI/tlsa.vars"
}

# The policies of the story domains (world.sh's policy_body). story-sts.test: mx1 only (at
# start), or mx1 and mx2 (after story-sts-add-mx). story-down.test: enforce (at start), or
# testing (after story-down-downgrade).
story_policy_body() {  # domain [with-mx2|testing]
  local mode=enforce
  [[ ${2:-} != testing ]] || mode=testing
  printf 'version: STSv1\nmode: %s\n' "$mode"
  case $1 in
    story-sts.test)
      printf 'mx: mx1.story-sts.test\n'
      [[ ${2:-} != with-mx2 ]] || printf 'mx: mx2.story-sts.test\n'
      ;;
    *) printf 'mx: mx.%s\n' "$1" ;;
  esac
  printf 'max_age: %s\n' "$STORY_STS_MAX_AGE"
}

story_write_policy() {  # domain [with-mx2|testing]
  local f=$NGX/www/$1/.well-known/mta-sts.txt
  story_policy_body "$@" >"$f.new"
  mv "$f.new" "$f"
}

story_txt_id() {  # domain id: the _mta-sts TXT record (TTL 1 s)
  story_knot_txn "$1" "_mta-sts.$1." TXT ".*id=$2;.*" -- "zone-unset $1 _mta-sts TXT" \
    "zone-set $1 _mta-sts 1 TXT \"v=STSv1; id=$2;\""
}

# One Knot transaction (signed by Knot when committed); then waits until Knot serves the
# change: `expect` is an extended regular expression for the answer's records of that type,
# sorted and each followed by ';' ("" for none). Unsetting what is not there is no error: the
# state wanted is reached.
story_knot_txn() {  # zone name type expect -- knotc zone-set/zone-unset arguments...
  local zone=$1 name=$2 type=$3 expect=$4 knotc=(knotc -c "$KNOT/knot.conf")
  shift 5
  "${knotc[@]}" zone-begin "$zone" >/dev/null || die "knotc zone-begin $zone failed"
  local args
  for args in "$@"; do
    # shellcheck disable=SC2086  # each argument is one knotc command line
    "${knotc[@]}" $args >/dev/null 2>&1 || [[ $args == zone-unset* ]] ||
      { "${knotc[@]}" zone-abort "$zone" >/dev/null; die "knotc $args failed"; }
  done
  "${knotc[@]}" zone-commit "$zone" >/dev/null || die "knotc zone-commit $zone failed"
  wait_for "$name $type in Knot" 10 story_knot_serves "$name" "$type" "$expect"
}

story_knot_serves() {  # name type regex: the answer's records of that type match it exactly
  local out
  out=$(kdig @"$DNS_ADDR" -p "$DNS_PORT" +time=1 +retry=0 +norec +noall +answer "$1" "$2" 2>/dev/null |
    awk -v t="$2" '$4 == t { $1 = $2 = $3 = $4 = ""; sub(/^ +/, ""); print }' | sort | tr '\n' ';') || return 1
  [[ $out =~ ^($3)$ ]]
}

story_spki() {  # story CUR|NEXT: the SPKI digest from tlsa.vars (SPKI_STORY_ROLL_CUR, ...)
  local var
  var=SPKI_$(tr 'a-z-' 'A-Z_' <<<"$1")_$2
  echo "${!var}"
}

story_tlsa() {  # story next|cur|both: set the TLSA RRset of mx.<story>.test
  local st=$1 which=$2 owner=_25._tcp.mx.$1.test. recs=() pat=""
  case $which in
    cur) recs=("$(story_spki "$st" CUR)") ;;
    next) recs=("$(story_spki "$st" NEXT)") ;;
    both) recs=("$(story_spki "$st" CUR)" "$(story_spki "$st" NEXT)") ;;
  esac
  local args=("zone-unset $st.test $owner TLSA") r
  for r in "${recs[@]}"; do
    args+=("zone-set $st.test $owner $STORY_TLSA_TTL TLSA 3 1 1 $r")
    pat+="3 1 1 ${r^^};"
  done
  # kdig prints the digest in upper case, sorted lines joined by ';'
  pat=$(tr ';' '\n' <<<"${pat%;}" | sort | tr '\n' ';')
  story_knot_txn "$st.test" "$owner" TLSA "$pat" -- "${args[@]}"
}

story_sts_zone() {  # with-mx2|start: MX RRset and TXT id of story-sts.test
  local z=story-sts.test id=1 args=("zone-unset story-sts.test @ MX" "zone-unset story-sts.test _mta-sts TXT")
  args+=("zone-set $z @ 1 MX 10 mx1")
  if [[ $1 == with-mx2 ]]; then
    id=2
    args+=("zone-set $z @ 1 MX 20 mx2")
  fi
  args+=("zone-set $z _mta-sts 1 TXT \"v=STSv1; id=$id;\"")
  story_knot_txn "$z" "_mta-sts.$z." TXT ".*id=$id;.*" -- "${args[@]}"
}

story_mutate() {  # mutate|restore what
  local action=$1 what=$2 st
  case "$action:$what" in
    mutate:story-roll-publish | mutate:story-fast-publish) story_tlsa "${what%-publish}" both ;;
    mutate:story-roll-retire | mutate:story-fast-retire) story_tlsa "${what%-retire}" next ;;
    mutate:story-roll-switch | mutate:story-fast-switch)
      st=${what%-switch}
      swap_chain "$st.chain.pem" "${STORY_ADDR[$st]}" "$st-next.chain.pem" "$(story_spki "$st" NEXT)"
      ;;
    mutate:story-sts-add-mx)
      # The operator's change in one go: the policy lists mx2, its id changes, mx2 is an MX.
      story_write_policy story-sts.test with-mx2
      story_sts_zone with-mx2
      ;;
    mutate:story-sts-withdraw)
      story_knot_txn story-sts.test _mta-sts.story-sts.test. TXT "" -- "zone-unset story-sts.test _mta-sts TXT"
      ;;
    mutate:story-down-downgrade)
      # As an operator would: the new policy first, then the id that makes senders fetch it.
      story_write_policy story-down.test testing
      story_txt_id story-down.test 2
      ;;
    restore:stories)
      for st in story-roll story-fast; do
        story_tlsa "$st" cur
        swap_chain "$st.chain.pem" "${STORY_ADDR[$st]}" "$st-cur.chain.pem" "$(story_spki "$st" CUR)"
      done
      story_write_policy story-sts.test
      story_sts_zone start
      story_write_policy story-down.test
      story_txt_id story-down.test 1
      ;;
    *) die "unknown: $action '$what'" ;;
  esac
}
