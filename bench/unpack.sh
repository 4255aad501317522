#!/usr/bin/env bash
# Unpack time of one gzip layer (5,000 small files and 50 files of 1 MiB)
# by cove-fs unpack against umoci unpack --rootless, as an unprivileged
# user, interleaved, median of RUNS (5). The layer is made by umoci repack,
# so both unpack the very same blob. Work happens in /tmp. As root it
# prepares the host and runs itself as the test user (as make test does).
set -euo pipefail
cd "$(dirname "$0")/.."
RUNS=${RUNS:-5}

if [ "$(id -u)" = 0 ]; then
    . scripts/as-test-user.sh cove-bench RUNS="$RUNS"
fi

swift build -c release --static-swift-stdlib --product cove-fs >/dev/null
fs="$(swift build -c release --static-swift-stdlib --show-bin-path)/cove-fs"

work=$(mktemp -d /tmp/cove-bench-unpack-XXXXXX)
cleanup() { "$fs" remove "$work" >/dev/null 2>&1 || rm -rf "$work"; }
trap cleanup EXIT
cd "$work"

umoci init --layout img >/dev/null
umoci new --image img:t >/dev/null
umoci unpack --rootless --image img:t seed >/dev/null
python3 - seed/rootfs <<'PY'
import os, sys
root = sys.argv[1]
for d in range(50):
    os.makedirs(f"{root}/small/{d:02d}", exist_ok=True)
for i in range(5000):
    with open(f"{root}/small/{i % 50:02d}/f{i}", "w") as f:
        f.write(f"file {i}\n" * 8)
os.makedirs(f"{root}/big", exist_ok=True)
for i in range(50):
    with open(f"{root}/big/b{i}", "wb") as f:
        f.write(os.urandom(1 << 20))
PY
umoci repack --image img:t seed >/dev/null
rm -rf seed

manifest=$(python3 -c 'import json;print(json.load(open("img/index.json"))["manifests"][0]["digest"][7:])')
read -r layer config < <(python3 -c '
import json,sys
m=json.load(open("img/blobs/sha256/"+sys.argv[1]))
print(m["layers"][0]["digest"][7:], m["config"]["digest"][7:])' "$manifest")
diffid=$(python3 -c 'import json,sys;print(json.load(open("img/blobs/sha256/"+sys.argv[1]))["rootfs"]["diff_ids"][0])' "$config")
echo "layer: $(stat -c %s "img/blobs/sha256/$layer") bytes gzip, 5000 small files + 50 x 1 MiB; $RUNS runs each, interleaved"

now() { date +%s%N; }
cove_times=(); umoci_times=()
mkdir -p layers
for i in $(seq 1 "$RUNS"); do
    t0=$(now)
    "$fs" unpack --blob "img/blobs/sha256/$layer" --diff-id "$diffid" --into "layers/run$i" 2>/dev/null
    t1=$(now)
    umoci unpack --rootless --image img:t "u$i" >/dev/null
    t2=$(now)
    cove_times+=($(( (t1 - t0) / 1000000 )))
    umoci_times+=($(( (t2 - t1) / 1000000 )))
    "$fs" remove "layers/run$i"
    rm -rf "u$i"
done
median() { printf '%s\n' "$@" | sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
echo "cove-fs unpack:          median $(median "${cove_times[@]}") ms  (runs: ${cove_times[*]})"
echo "umoci unpack --rootless: median $(median "${umoci_times[@]}") ms  (runs: ${umoci_times[*]})"
