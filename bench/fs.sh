#!/usr/bin/env bash
# make bench-fs: file system work inside a container of one image (create
# 5,000 files, touch 5,000 image files, delete 5,000 image files, find /)
# for cove on the kernel overlay and on fuse-overlayfs, and podman on its
# native overlay and on fuse-overlayfs, interleaved; plus the time to
# create a container from a loaded image. As root it prepares the host (as
# make test does) and runs as the test user, release build.
set -euo pipefail
cd "$(dirname "$0")/.."
RUNS=${RUNS:-5}

if [ "$(id -u)" = 0 ]; then
    . scripts/as-test-user.sh cove-test RUNS="$RUNS" ${BENCH_DIR:+BENCH_DIR=$BENCH_DIR}
fi

swift build -c release --static-swift-stdlib >/dev/null
bin=$(swift build -c release --static-swift-stdlib --show-bin-path)
exec python3 bench/fs.py --bin "$bin" --runs "$RUNS" ${BENCH_DIR:+--dir "$BENCH_DIR"}
