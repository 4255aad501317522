# Sourced by make's scripts when they start as root: prepare the host, copy
# the tree into the test user's home (sources only; its .build is kept
# between runs) and run the calling script again from there as that user,
# with the environment a login would give it; then, if the caller defined
# after_test_user, that runs as root with the copy's path. Usage:
#   . scripts/as-test-user.sh COPY_NAME [VAR=VALUE...]
TEST_USER=${COVE_TEST_USER:-covetest}
bash scripts/prepare-host.sh
home=$(getent passwd "$TEST_USER" | cut -d: -f6)
uid=$(id -u "$TEST_USER")
work="$home/$1"
shift
runuser -u "$TEST_USER" -- mkdir -p "$work"
rsync -a --delete --exclude=/.build --exclude='/.build-*' --exclude=/.git \
    --chown="$TEST_USER:$TEST_USER" ./ "$work/"
swift_bin=$(dirname "$(command -v swift || echo /opt/swift/usr/bin/swift)")
script=$(realpath --relative-to="$PWD" "${BASH_SOURCE[1]}")
runuser -u "$TEST_USER" -- env -i HOME="$home" USER="$TEST_USER" LOGNAME="$TEST_USER" \
    PATH="$swift_bin:/usr/local/bin:/usr/bin:/bin:/usr/sbin:/sbin" \
    XDG_RUNTIME_DIR="/run/user/$uid" LANG=C.UTF-8 ${CI:+CI=$CI} "$@" \
    bash "$work/$script"
rc=$?
# A caller may have more to do as root once the user's part passed
# (make test: cove doctor as other users).
if [ $rc = 0 ] && declare -F after_test_user >/dev/null; then
    after_test_user "$work"
    rc=$?
fi
exit $rc
