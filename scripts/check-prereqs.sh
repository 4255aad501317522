#!/usr/bin/env bash
# As a normal user: say exactly what is missing for cove's tests, each with
# the command that fixes it. Exits non-zero when anything is.
set -u
user=$(id -un)
problems=()
need() { command -v "$1" >/dev/null 2>&1 || problems+=("$1 not found: $2"); }

[ "$(id -u)" != 0 ] || problems+=("running as root: the tests must run as an unprivileged user (root's make test drops to one)")
need swift "install Swift 6 (swift.org) and put its bin on PATH"
need newuidmap "sudo apt-get install uidmap"
need newgidmap "sudo apt-get install uidmap"
need busybox "sudo apt-get install busybox-static"
need podman "sudo apt-get install podman"
need conmon "sudo apt-get install conmon"
need rsync "sudo apt-get install rsync"
need python3 "sudo apt-get install python3"
need script "sudo apt-get install util-linux"
if [ -e /bin/busybox ] && ldd /bin/busybox >/dev/null 2>&1; then
    problems+=("/bin/busybox is dynamically linked: sudo apt-get install busybox-static")
fi
for pc in libseccomp libcap libarchive slirp; do
    pkg-config --exists "$pc" 2>/dev/null || problems+=("pkg-config cannot find $pc: sudo apt-get install $(grep -o "lib[a-z0-9.-]*-dev" scripts/debian-packages.txt | grep -m1 "${pc#lib}" || echo "lib$pc-dev")")
done
grep -q "^$user:" /etc/subuid 2>/dev/null || problems+=("no /etc/subuid entry for $user: sudo usermod --add-subuids 100000-165535 $user")
grep -q "^$user:" /etc/subgid 2>/dev/null || problems+=("no /etc/subgid entry for $user: sudo usermod --add-subgids 100000-165535 $user")
if [ -z "${XDG_RUNTIME_DIR:-}" ] || [ ! -O "${XDG_RUNTIME_DIR:-/nonexistent}" ]; then
    problems+=("XDG_RUNTIME_DIR is unset or not yours (su/sudo sessions): log in normally, or sudo install -d -m 0700 -o $user /run/user/$(id -u) && export XDG_RUNTIME_DIR=/run/user/$(id -u)")
fi
if ! unshare -U true 2>/dev/null; then
    problems+=("user namespaces are not allowed for $user: sudo sysctl -w kernel.unprivileged_userns_clone=1 (Debian) or allow them in AppArmor (Ubuntu 24.04: sudo sysctl -w kernel.apparmor_restrict_unprivileged_userns=0)")
fi
if [ ${#problems[@]} -gt 0 ]; then
    echo "cove's tests cannot run yet:" >&2
    for p in "${problems[@]}"; do echo "  - $p" >&2; done
    echo "or run 'sudo make test', which sets all of this up" >&2
    exit 1
fi
