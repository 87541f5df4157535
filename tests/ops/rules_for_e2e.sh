#!/bin/sh
# Writes alerts/mailtls.rules.yml to stdout with every `for:` set to $1 (default 0s), for the
# end-to-end test in which a live Prometheus must fire within seconds. Names, expressions,
# labels and annotations stay exactly as in the production file.
set -eu
for_duration=${1:-0s}
rules=$(dirname "$0")/../../alerts/mailtls.rules.yml
sed -E "s/^([[:space:]]+for:[[:space:]]*).*/\1${for_duration}/" "$rules"
