#!/usr/bin/env bash
# make bench-start: time container starts of cove-unshare against crun,
# runc, bwrap and a bare unshare(1) on the same busybox bundle, and of
# `cove run --rm IMAGE true` against `podman run --rm IMAGE true` (podman
# on its native overlay store; both without a network and with their
# default one), as an unprivileged user, interleaved. ROWS=runtime|front
# measures one half only. As root it prepares the host (as
# make test does), mounts the v1 hugetlb hierarchy crun needs on this
# host's hybrid cgroups, and runs the measurement as the test user.
set -euo pipefail
cd "$(dirname "$0")/.."
RUNS=${RUNS:-30}
ROWS=${ROWS:-all}

if [ "$(id -u)" = 0 ]; then
    if [ ! -d /sys/fs/cgroup/hugetlb ] && grep -q 'tmpfs /sys/fs/cgroup' /proc/mounts; then
        # crun refuses hybrid cgroups without it (for crun's sake only).
        mkdir -p /sys/fs/cgroup/hugetlb 2>/dev/null && mount -t cgroup -o hugetlb cgroup /sys/fs/cgroup/hugetlb || true
    fi
    . scripts/as-test-user.sh cove-test RUNS="$RUNS" ROWS="$ROWS"
fi

# The front finds its helpers beside itself: build every product.
swift build -c release --static-swift-stdlib >/dev/null
bin=$(swift build -c release --static-swift-stdlib --show-bin-path)
exec python3 bench/start.py --cove "$bin/cove-unshare" --front "$bin/cove" --rows "$ROWS" --runs "$RUNS"
