#!/usr/bin/env bash
# Build the Debian 12 (bookworm) systemd image that the molecule scenario and
# `make demo` start as a test host, and import it as localhost/promax-debian12.
# No image registry is reachable from CI, so the root file system comes from
# debootstrap and the Debian mirror.
#
# Usage: tests/host/build-image.sh [--force]
#   --force  rebuild even when the image already exists.
# Needs root, podman, runc and debootstrap.
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
IMAGE="${PROMAX_TEST_IMAGE:-localhost/promax-debian12:latest}"
MIRROR="${DEBIAN_MIRROR:-http://deb.debian.org/debian}"
SUITE=bookworm
PACKAGES=systemd,systemd-sysv,dbus,python3,python3-apt,sudo,ca-certificates,iproute2,procps,curl

export CONTAINERS_CONF="${CONTAINERS_CONF:-$HERE/containers.conf}"

force=false
for arg in "$@"; do
  case "$arg" in
    --force) force=true ;;
    -h|--help) sed -n '2,10p' "$0"; exit 0 ;;
    *) echo "build-image.sh: invalid argument '$arg' (expected --force)" >&2; exit 2 ;;
  esac
done

if [[ "$force" == false ]] && podman image exists "$IMAGE"; then
  echo "build-image.sh: $IMAGE exists, skipping the build (use --force to rebuild)"
  exit 0
fi

for tool in podman debootstrap; do
  if ! command -v "$tool" >/dev/null; then
    echo "build-image.sh: $tool not found; run 'make host-deps' first" >&2
    exit 1
  fi
done

rootfs="$(mktemp -d /var/tmp/promax-rootfs.XXXXXX)"
trap 'rm -rf --one-file-system "$rootfs"' EXIT

echo "build-image.sh: debootstrap $SUITE into $rootfs"
debootstrap --variant=minbase --include="$PACKAGES" "$SUITE" "$rootfs" "$MIRROR"

# Timers that would run apt, fsck or fstrim in the middle of a test run.
for unit in apt-daily.timer apt-daily-upgrade.timer e2scrub_all.timer \
            fstrim.timer dpkg-db-backup.timer; do
  ln -sf /dev/null "$rootfs/etc/systemd/system/$unit"
done

# An empty machine-id makes systemd generate a new one in each container.
: > "$rootfs/etc/machine-id"
rm -f "$rootfs/var/lib/dbus/machine-id"

# Drop the package lists and date their directory to the epoch. Ansible's
# apt cache_valid_time then treats the index as outdated and updates it on
# first use, instead of finding no packages.
apt_lists="$rootfs/var/lib/apt/lists"
find "$apt_lists" -mindepth 1 -maxdepth 1 -type f ! -name lock -delete
rm -f "$rootfs"/var/cache/apt/archives/*.deb
touch -d @0 "$apt_lists"

echo "build-image.sh: importing $IMAGE"
tar -C "$rootfs" -c . | podman import \
  --change 'CMD ["/lib/systemd/systemd"]' \
  --change 'STOPSIGNAL SIGRTMIN+3' \
  --change 'ENV container=podman' \
  - "$IMAGE"

echo "build-image.sh: built $IMAGE"
