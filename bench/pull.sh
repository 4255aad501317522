#!/usr/bin/env bash
# make bench-pull: time pulling one ~55 MB, 3-layer image from a local
# docker-registry with cove pull, podman pull and skopeo copy + umoci
# unpack, each into fresh storage, interleaved, as an unprivileged user.
# As root it prepares the host (as make test does) and runs as the test user.
set -euo pipefail
cd "$(dirname "$0")/.."
RUNS=${RUNS:-5}

if [ "$(id -u)" = 0 ]; then
    . scripts/as-test-user.sh cove-test RUNS="$RUNS"
fi

# All of it: the unpack row needs cove-fs beside cove.
swift build -c release --static-swift-stdlib >/dev/null
bin=$(swift build -c release --static-swift-stdlib --show-bin-path)
exec python3 bench/pull.py --cove "$bin/cove" --runs "$RUNS"
