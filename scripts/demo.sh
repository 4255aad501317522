#!/usr/bin/env bash
# make demo: set up (as root), build, make a demo image from Debian's
# busybox-static and run a container from it, as an unprivileged user.
set -euo pipefail
cd "$(dirname "$0")/.."

if [ "$(id -u)" = 0 ]; then
    echo "demo: setting up, then running as the unprivileged user ${COVE_TEST_USER:-covetest}"
    . scripts/as-test-user.sh cove-demo
fi

bash scripts/check-prereqs.sh
echo "demo: building (release)"
swift build -c release --static-swift-stdlib >/dev/null
bin=$(swift build -c release --static-swift-stdlib --show-bin-path)
demo="${XDG_DATA_HOME:-$HOME/.local/share}/cove/demo"
if [ ! -x "$demo/rootfs/bin/busybox" ]; then
    echo "demo: making the demo image from /bin/busybox (busybox-static) in $demo"
    mkdir -p "$demo/rootfs"/{bin,etc,tmp,proc,sys,dev,root}
    cp /bin/busybox "$demo/rootfs/bin/busybox"
    for a in $(/bin/busybox --list); do [ "$a" = busybox ] || ln -sf busybox "$demo/rootfs/bin/$a"; done
    echo "root:x:0:0:root:/root:/bin/sh" > "$demo/rootfs/etc/passwd"
    echo "root:x:0:" > "$demo/rootfs/etc/group"
fi
rm -f "$demo/config.json"
(cd "$demo" && "$bin/cove-unshare" spec --rootless)
python3 - "$demo/config.json" <<'PY'
import json, sys
p = sys.argv[1]
c = json.load(open(p))
c["process"]["args"] = ["sh", "-c", "echo \"hello from a cove container: $(hostname), pid $$, uid $(id -u), $(ls /proc | grep -c '^[0-9]') processes visible\""]
json.dump(c, open(p, "w"), indent=2)
PY
echo "demo: $bin/cove-unshare run --bundle $demo demo-$$"
"$bin/cove-unshare" run --bundle "$demo" "demo-$$"
