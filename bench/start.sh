#!/usr/bin/env bash
# make bench-start: time container starts of cove-unshare against crun,
# runc, bwrap and a bare unshare(1) on the same busybox bundle, as an
# unprivileged user, interleaved. As root it prepares the host (as
# make test does), mounts the v1 hugetlb hierarchy crun needs on this
# host's hybrid cgroups, and runs the measurement as the test user.
set -euo pipefail
cd "$(dirname "$0")/.."
RUNS=${RUNS:-30}

if [ "$(id -u)" = 0 ]; then
    if [ ! -d /sys/fs/cgroup/hugetlb ] && grep -q 'tmpfs /sys/fs/cgroup' /proc/mounts; then
        # crun refuses hybrid cgroups without it (for crun's sake only).
        mkdir -p /sys/fs/cgroup/hugetlb 2>/dev/null && mount -t cgroup -o hugetlb cgroup /sys/fs/cgroup/hugetlb || true
    fi
    . scripts/as-test-user.sh cove-test RUNS="$RUNS"
fi

swift build -c release --static-swift-stdlib --product cove-unshare >/dev/null
bin=$(swift build -c release --static-swift-stdlib --show-bin-path)
exec python3 bench/start.py --cove "$bin/cove-unshare" --runs "$RUNS"
