#!/usr/bin/env bash
# The world fixture of CTest and of `setup.sh demo-check`: `start [OWNER]` brings the world up
# unless it already runs, and then writes OWNER (default "ctest") into a marker; `stop [OWNER]`
# stops it only when the marker names that OWNER. So a developer's (or another test run's) world
# is left alone, and a nested user (demo-check run as a test inside ctest's fixture) neither
# stops the outer one's world nor makes the outer one forget that it started it.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
run_dir=${MAILTLS_WORLD_DIR:-$(cd "$here/../.." && pwd)/.world}
marker="$run_dir/.started-by-ctest"
owner=${2:-ctest}
case "${1:-}" in
  start)
    if "$here/world.sh" status 2>/dev/null | grep -q '^state: all'; then
      echo "world already running in $run_dir: using it${owner:+ ($owner)}, and leaving it running"
      exit 0
    fi
    "$here/world.sh" start
    printf '%s\n' "$owner" >"$marker"
    ;;
  stop)
    if [[ -e $marker && $(cat "$marker") == "$owner" ]]; then
      rm -f "$marker"
      "$here/world.sh" stop
    else
      echo "world was not started by $owner: leaving it running"
    fi
    ;;
  *) echo "usage: $0 start|stop [OWNER]" >&2; exit 2 ;;
esac
