#!/usr/bin/env bash
# `make test`. As root (CI): prepare the machine as a distribution would,
# copy the tree to the unprivileged test user and run everything as that
# user. As a normal user: check the prerequisites, build, run the tests.
set -euo pipefail
cd "$(dirname "$0")/.."
TEST_USER=${COVE_TEST_USER:-covetest}

if [ "$(id -u)" = 0 ]; then
    bash scripts/prepare-host.sh
    home=$(getent passwd "$TEST_USER" | cut -d: -f6)
    uid=$(id -u "$TEST_USER")
    work="$home/cove-test"
    # The user's own copy: sources only, its .build kept between runs.
    runuser -u "$TEST_USER" -- mkdir -p "$work"
    rsync -a --delete --exclude=/.build --exclude='/.build-*' --exclude=/.git \
        --chown="$TEST_USER:$TEST_USER" ./ "$work/"
    swift_bin=$(dirname "$(command -v swift || echo /opt/swift/usr/bin/swift)")
    exec runuser -u "$TEST_USER" -- env -i \
        HOME="$home" USER="$TEST_USER" LOGNAME="$TEST_USER" \
        PATH="$swift_bin:/usr/local/bin:/usr/bin:/bin:/usr/sbin:/sbin" \
        XDG_RUNTIME_DIR="/run/user/$uid" LANG=C.UTF-8 ${CI:+CI=$CI} \
        bash "$work/scripts/test.sh"
fi

bash scripts/check-prereqs.sh
swift build --build-tests
COVE_BIN_DIR=$(swift build --show-bin-path) swift test --skip-build
