#!/usr/bin/env bash
# `make test`. As root (CI): prepare the machine as a distribution would,
# copy the tree to the unprivileged test user and run everything as that
# user. As a normal user: check the prerequisites, build, run the tests.
set -euo pipefail
cd "$(dirname "$0")/.."

if [ "$(id -u)" = 0 ]; then
    # After the suite: cove doctor as real users with a prerequisite taken away.
    after_test_user() {
        bash scripts/doctor-check.sh "$1/.build/debug/cove" "${COVE_TEST_USER:-covetest}"
    }
    . scripts/as-test-user.sh cove-test
fi

bash scripts/check-prereqs.sh
swift build --build-tests
COVE_BIN_DIR=$(swift build --show-bin-path) swift test --skip-build
