#!/bin/bash
# Prints the Debian packages that hold the shared libraries a binary loads (ldd, then dpkg -S),
# one per line, sorted. The container image installs exactly these plus its data packages, so
# the list follows the code when a probe starts linking another library.
# usage: runtime-packages.sh <binary>
set -euo pipefail
bin=${1:?usage: runtime-packages.sh <binary>}
[ -x "$bin" ] || { echo "runtime-packages.sh: $bin is not an executable" >&2; exit 1; }
if ldd "$bin" | grep -q "not found"; then
  ldd "$bin" >&2
  echo "runtime-packages.sh: $bin has unresolved libraries" >&2
  exit 1
fi
ldd "$bin" | awk '$2 == "=>" && $3 ~ /^\// { print $3 }' | while read -r lib; do
  # With merged /usr a library is found as /lib/... but registered as /usr/lib/... or the
  # other way round; try the path, its real path and both spellings.
  real=$(readlink -f "$lib")
  for p in "$lib" "$real" "/usr$lib" "${lib#/usr}" "/usr$real" "${real#/usr}"; do
    if pkg=$(dpkg -S "$p" 2>/dev/null); then
      echo "${pkg%%:*}"
      continue 2
    fi
  done
  echo "runtime-packages.sh: no Debian package holds $lib" >&2
  exit 1
done | sort -u
