#!/usr/bin/env bash
# CTest's world fixture: `start` brings the world up unless it already runs, and remembers
# whether it did; `stop` stops it only in that case, so a developer's (or another test run's)
# world is left alone.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
run_dir=${MAILTLS_WORLD_DIR:-$(cd "$here/../.." && pwd)/.world}
marker="$run_dir/.started-by-ctest"
case "${1:-}" in
  start)
    if "$here/world.sh" status 2>/dev/null | grep -q '^state: all'; then
      echo "world already running in $run_dir: using it, and leaving it running"
      rm -f "$marker"
      exit 0
    fi
    "$here/world.sh" start
    touch "$marker"
    ;;
  stop)
    if [[ -e $marker ]]; then
      rm -f "$marker"
      "$here/world.sh" stop
    else
      echo "world was not started by this test run: leaving it running"
    fi
    ;;
  *) echo "usage: $0 start|stop" >&2; exit 2 ;;
esac
