#!/bin/bash
# Builds local stand-ins for the debian:12 and debian:12-slim images from Debian's package
# mirror with debootstrap and imports them into podman, for machines that can reach the
# Debian mirror but no container registry. Both names get the same minbase bookworm root
# with the bookworm, bookworm-updates and bookworm-security suites, like the official image.
# usage: make_base_image.sh [work-dir]    (needs root, debootstrap and podman)
set -euo pipefail
WORK=${1:-/var/tmp/mailtls-packaging}
MIRROR=${MAILTLS_DEBIAN_MIRROR:-}
SECURITY_MIRROR=${MAILTLS_DEBIAN_SECURITY_MIRROR:-}

# The mirror this machine's apt uses (deb822 or one-line format), unless given.
apt_uri() {  # $1: pattern the URI must match
  cat /etc/apt/sources.list.d/*.sources /etc/apt/sources.list 2>/dev/null |
    grep -oE "(URIs:[[:space:]]*|^deb[[:space:]]+(\[[^]]*\][[:space:]]+)?)https?://[^[:space:]]+" |
    grep -oE "https?://[^[:space:]]+" | grep -E "$1" | head -1
}
[ -n "$MIRROR" ] || MIRROR=$(apt_uri '/debian/?$' || true)
[ -n "$MIRROR" ] || MIRROR=http://deb.debian.org/debian
[ -n "$SECURITY_MIRROR" ] || SECURITY_MIRROR=$(apt_uri '/debian-security/?$' || true)
[ -n "$SECURITY_MIRROR" ] || SECURITY_MIRROR=http://deb.debian.org/debian-security

ROOTFS=$WORK/rootfs-debian12
mkdir -p "$WORK"
rm -rf "$ROOTFS"
echo "make_base_image: debootstrap bookworm from $MIRROR"
debootstrap --variant=minbase bookworm "$ROOTFS" "$MIRROR" > "$WORK/debootstrap.log" 2>&1 || {
  tail -20 "$WORK/debootstrap.log" >&2
  exit 1
}
rm -f "$ROOTFS/etc/apt/sources.list"
cat > "$ROOTFS/etc/apt/sources.list.d/debian.sources" <<SOURCES
Types: deb
URIs: $MIRROR
Suites: bookworm bookworm-updates
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg

Types: deb
URIs: $SECURITY_MIRROR
Suites: bookworm-security
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
SOURCES
# Like the official image: no apt caches and no service starts inside image builds.
rm -rf "$ROOTFS"/var/lib/apt/lists/* "$ROOTFS"/var/cache/apt/*.bin
printf '#!/bin/sh\nexit 101\n' > "$ROOTFS/usr/sbin/policy-rc.d"
chmod 755 "$ROOTFS/usr/sbin/policy-rc.d"

tar -C "$ROOTFS" --numeric-owner -c . |
  podman import --change 'CMD ["bash"]' - docker.io/library/debian:12 > /dev/null
podman tag docker.io/library/debian:12 docker.io/library/debian:12-slim
rm -rf "$ROOTFS"
echo "make_base_image: imported docker.io/library/debian:12 and :12-slim"
