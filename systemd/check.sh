#!/usr/bin/env bash
# Checks the unit as CI does: `systemd-analyze verify` on an instance of the
# template (in a scratch root holding the binary at its install path), and
# `systemd-analyze security --offline` with an exposure of 1.5 or better.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
binary="${1:?usage: systemd/check.sh PATH/TO/flamingo}"
root="$(mktemp -d)"
trap 'rm -rf "$root"' EXIT
mkdir -p "$root/usr/local/bin" "$root/etc/systemd/system" "$root/usr/lib/systemd"
cp "$binary" "$root/usr/local/bin/flamingo"
ln -s /lib/systemd/system "$root/usr/lib/systemd/system"
unit="$root/etc/systemd/system/flamingo-watch@srv-videos.service"
cp "$here/flamingo-watch@.service" "$unit"
systemd-analyze verify --man=no --root="$root" "$unit"
systemd-analyze security --offline=yes --threshold=15 "$unit" | tail -n 1
echo "systemd unit: verify ok, exposure within 1.5"
