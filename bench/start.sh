#!/usr/bin/env bash
# make bench-start: time container starts of cove-unshare against crun,
# runc, bwrap and a bare unshare(1) on the same busybox bundle, as an
# unprivileged user, interleaved. As root it prepares the host (as
# make test does), mounts the v1 hugetlb hierarchy crun needs on this
# host's hybrid cgroups, and runs the measurement as the test user.
set -euo pipefail
cd "$(dirname "$0")/.."
TEST_USER=${COVE_TEST_USER:-covetest}
RUNS=${RUNS:-30}

if [ "$(id -u)" = 0 ]; then
    bash scripts/prepare-host.sh
    if [ ! -d /sys/fs/cgroup/hugetlb ] && grep -q 'tmpfs /sys/fs/cgroup' /proc/mounts; then
        # crun refuses hybrid cgroups without it (for crun's sake only).
        mkdir -p /sys/fs/cgroup/hugetlb 2>/dev/null && mount -t cgroup -o hugetlb cgroup /sys/fs/cgroup/hugetlb || true
    fi
    home=$(getent passwd "$TEST_USER" | cut -d: -f6)
    uid=$(id -u "$TEST_USER")
    work="$home/cove-test"
    runuser -u "$TEST_USER" -- mkdir -p "$work"
    rsync -a --delete --exclude=/.build --exclude='/.build-*' --exclude=/.git \
        --chown="$TEST_USER:$TEST_USER" ./ "$work/"
    swift_bin=$(dirname "$(command -v swift || echo /opt/swift/usr/bin/swift)")
    exec runuser -u "$TEST_USER" -- env -i HOME="$home" USER="$TEST_USER" \
        PATH="$swift_bin:/usr/local/bin:/usr/bin:/bin:/usr/sbin:/sbin" \
        XDG_RUNTIME_DIR="/run/user/$uid" LANG=C.UTF-8 RUNS="$RUNS" bash "$work/bench/start.sh"
fi

swift build -c release --static-swift-stdlib --product cove-unshare >/dev/null
bin=$(swift build -c release --static-swift-stdlib --show-bin-path)
exec python3 bench/start.py --cove "$bin/cove-unshare" --runs "$RUNS"
