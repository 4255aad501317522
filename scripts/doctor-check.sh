#!/usr/bin/env bash
# As root, after the suite: `cove doctor` run by real users on a machine
# with one rootless prerequisite taken away at a time. Each case expects
# its own line (with the fix) and exit 1. The machine is put back after
# each case, whatever happens.
#   usage: doctor-check.sh PATH-TO-COVE TEST-USER
set -uo pipefail
cove_src=$1
test_user=$2
second_user=${COVE_SECOND_USER:-covenosub}
fail=0
passed=0

dir=$(mktemp -d /tmp/cove-doctor-XXXXXX)
trap 'chmod 0666 /dev/net/tun /dev/fuse 2>/dev/null; rm -rf "$dir"' EXIT
install -m 0755 "$cove_src" "$dir/cove"
chmod 0755 "$dir"

# A second user as LDAP or a plain useradd without ranges leaves them.
if ! id "$second_user" >/dev/null 2>&1; then
    useradd -m -s /bin/bash -K SUB_UID_COUNT=0 -K SUB_GID_COUNT=0 "$second_user"
fi
sed -i "/^$second_user:/d" /etc/subuid /etc/subgid

as_user() {   # as_user USER [VAR=VALUE...] -- runs cove doctor with a login-like environment
    local user=$1; shift
    local uid home
    uid=$(id -u "$user"); home=$(getent passwd "$user" | cut -d: -f6)
    install -d -m 0700 -o "$user" -g "$user" "/run/user/$uid"
    runuser -u "$user" -- env -i HOME="$home" USER="$user" PATH=/usr/bin:/bin:/usr/sbin:/sbin \
        XDG_RUNTIME_DIR="/run/user/$uid" "$@" "$dir/cove" doctor 2>&1
}

expect() {    # expect NAME EXPECTED-RC PATTERN OUTPUT RC
    local name=$1 want_rc=$2 pattern=$3 out=$4 rc=$5
    if [ "$rc" = "$want_rc" ] && grep -qE -- "$pattern" <<<"$out"; then
        echo "ok: doctor: $name"
        passed=$((passed + 1))
    else
        echo "FAIL: doctor: $name (exit $rc, wanted $want_rc and /$pattern/):"
        sed 's/^/    /' <<<"$out"
        fail=1
    fi
}

out=$(as_user "$second_user"); rc=$?
expect "a user without /etc/subuid and /etc/subgid entries" 1 \
    "^problem: /etc/subuid: no entry for $second_user.*fix: sudo usermod --add-subuids" "$out" $rc
expect "… and its subgid line" 1 "^problem: /etc/subgid: no entry for $second_user" "$out" $rc

out=$(as_user "$test_user" XDG_RUNTIME_DIR=); rc=$?
expect "XDG_RUNTIME_DIR unset (su, sudo -u)" 0 "^note: XDG_RUNTIME_DIR.*fix:" "$out" $rc

chmod 0600 /dev/net/tun
out=$(as_user "$test_user"); rc=$?
chmod 0666 /dev/net/tun
expect "/dev/net/tun unreadable" 1 "^problem: /dev/net/tun.*fix:" "$out" $rc

chmod 0600 /dev/fuse
out=$(as_user "$test_user"); rc=$?
chmod 0666 /dev/fuse
# Only a fallback (fuse-overlayfs): a note, not a problem.
expect "/dev/fuse unreadable" 0 "^note: /dev/fuse.*fix: sudo chmod 0666 /dev/fuse" "$out" $rc

out=$(as_user "$test_user"); rc=$?
expect "a prepared user has no problem" 0 "^ok: /etc/subuid" "$out" $rc

echo "doctor checks: $passed passed$([ $fail = 0 ] || echo ', some FAILED')"
exit $fail
