#!/usr/bin/env bash
# make demo: set up (as root), build, make a demo image from Debian's
# busybox-static with `cove import`, and run a container of it with
# `cove run`, as an unprivileged user. Nothing is fetched from the internet.
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
cove="$bin/cove"

work=$(mktemp -d "${TMPDIR:-/tmp}/cove-demo-XXXXXX")
trap 'rm -rf "$work"' EXIT
echo "demo: making the image \"demo\" from /bin/busybox (busybox-static)"
mkdir -p "$work/rootfs"/{bin,etc,tmp,proc,sys,dev,root}
cp /bin/busybox "$work/rootfs/bin/busybox"
for a in $(/bin/busybox --list); do [ "$a" = busybox ] || ln -sf busybox "$work/rootfs/bin/$a"; done
printf 'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/:/bin/sh\n' > "$work/rootfs/etc/passwd"
printf 'root:x:0:\nnogroup:x:65534:\n' > "$work/rootfs/etc/group"
tar --owner=0 --group=0 -C "$work/rootfs" -czf "$work/rootfs.tar.gz" .
echo "demo: $cove import --change 'ENV PATH=/bin' --change 'CMD [\"sh\"]' rootfs.tar.gz demo"
"$cove" import --change 'ENV PATH=/bin' --change 'CMD ["sh"]' --message "cove demo image" "$work/rootfs.tar.gz" demo
"$cove" images

msg='echo "hello from a cove container: $(hostname), pid $$, uid $(id -u), $(ls /proc | grep -c "^[0-9]") processes visible"'
echo "demo: $cove run --rm demo sh -c '…'"
"$cove" run --rm demo sh -c "$msg"
echo
echo "demo: done. Try it yourself:"
echo "  export PATH=$bin:\$PATH"
echo "  cove run --rm -it demo sh"
