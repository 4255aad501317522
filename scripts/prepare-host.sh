#!/usr/bin/env bash
# As root: make this machine what a normal Debian or Ubuntu install with
# rootless containers looks like, and make the unprivileged test user.
#   - the Debian packages cove builds and tests with
#   - /dev/fuse and /dev/net/tun 0666, as a distribution's udev sets them
#   - a user with /etc/subuid and /etc/subgid ranges and a /run/user/UID
set -euo pipefail

TEST_USER=${COVE_TEST_USER:-covetest}
SUB_START=${COVE_TEST_SUBID_START:-200000}
SUB_COUNT=65536

[ "$(id -u)" = 0 ] || { echo "prepare-host.sh must run as root" >&2; exit 1; }

here=$(cd "$(dirname "$0")" && pwd)
mapfile -t pkgs < <(grep -v '^#' "$here/debian-packages.txt" | tr -s ' \t' '\n' | sed '/^$/d')
missing=()
for p in "${pkgs[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
    echo "installing: ${missing[*]}"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -q >/dev/null
    apt-get install -y -q --no-install-recommends "${missing[@]}" >/dev/null
fi

for dev in /dev/fuse /dev/net/tun; do
    [ -e "$dev" ] && chmod 0666 "$dev"
done

if ! id "$TEST_USER" >/dev/null 2>&1; then
    # -K …=0: useradd would otherwise pick ranges of its own.
    useradd -m -s /bin/bash -K SUB_UID_COUNT=0 -K SUB_GID_COUNT=0 "$TEST_USER"
fi
for f in /etc/subuid /etc/subgid; do
    touch "$f"
    grep -q "^$TEST_USER:" "$f" || echo "$TEST_USER:$SUB_START:$SUB_COUNT" >> "$f"
done
uid=$(id -u "$TEST_USER")
# What pam_systemd makes at login: a tmpfs of the user's own.
install -d -m 0700 -o "$TEST_USER" -g "$TEST_USER" "/run/user/$uid"
if ! mountpoint -q "/run/user/$uid"; then
    mount -t tmpfs -o "mode=0700,uid=$uid,gid=$(id -g "$TEST_USER"),size=10%" tmpfs "/run/user/$uid" || true
fi
# A small filesystem that can share file data (xfs with reflink, on a
# loop device) for the copy driver's FICLONE test: the user's own, at
# /var/tmp/cove-reflink-USER. Sparse: it takes only what is written.
reflink=/var/tmp/cove-reflink-$TEST_USER
if ! mountpoint -q "$reflink"; then
    install -d -m 0755 "$reflink"
    img=/var/tmp/cove-reflink-$TEST_USER.img
    if [ ! -s "$img" ]; then
        truncate -s 320M "$img"
        mkfs.xfs -q -m reflink=1 "$img"
    fi
    mount -o loop,nodev,nosuid "$img" "$reflink" ||
        echo "prepare-host.sh: cannot mount an xfs image at $reflink: the copy driver's reflink test will fail" >&2
fi
mountpoint -q "$reflink" && chown "$TEST_USER:$(id -g "$TEST_USER")" "$reflink" && chmod 0700 "$reflink"
# The Swift package mirror is root's; git refuses other owners' repositories.
home=$(getent passwd "$TEST_USER" | cut -d: -f6)
runuser -u "$TEST_USER" -- git config --global --get-all safe.directory 2>/dev/null | grep -qx '\*' ||
    runuser -u "$TEST_USER" -- env HOME="$home" git config --global --add safe.directory '*'
echo "test user: $TEST_USER (uid $uid, subids $SUB_START-$((SUB_START + SUB_COUNT - 1)))"
