#!/usr/bin/env bash
# make bench-net: TCP throughput (iperf3) between the host's loopback and a
# rootless network namespace through cove-net, slirp4netns and pasta, as an
# unprivileged user, interleaved. As root it prepares the host (as make
# test does) and runs the measurement as the test user. Traffic goes only
# to 127.0.0.1 and to 10.0.2.x inside namespaces the benchmark made.
set -euo pipefail
cd "$(dirname "$0")/.."
RUNS=${RUNS:-3}
SECONDS_PER_RUN=${SECONDS_PER_RUN:-5}

if [ "$(id -u)" = 0 ]; then
    . scripts/as-test-user.sh cove-test RUNS="$RUNS" SECONDS_PER_RUN="$SECONDS_PER_RUN" \
        BENCH_ROWS="${BENCH_ROWS:-}" BENCH_TOOLS="${BENCH_TOOLS:-}"
fi

swift build -c release --static-swift-stdlib --product cove-net >/dev/null
bin=$(swift build -c release --static-swift-stdlib --show-bin-path)
exec python3 bench/net.py --cove-net "$bin/cove-net" --runs "$RUNS" --seconds "$SECONDS_PER_RUN" \
    --rows "${BENCH_ROWS:-}" --tools "${BENCH_TOOLS:-}"
