#!/bin/bash
# Robustness of the host path: treectld killed with SIGKILL in the middle of a deploy, and
# two daemons racing for the same sysroot (the ostree sysroot lock serializes them).
. "${TREECTL_SRCDIR:-$(dirname "$0")/..}/tests/libtest.sh"

setup_test_sysroot
v1=$(default_checksum)
commit_os "$TEST_REF" 2.0 --kernel=2 >/dev/null

# Pause the daemon after the new deployment is checked out but before the boot entries are
# written, then kill it there.
TREECTL_TEST_PAUSE=deploy TREECTL_TEST_PAUSE_SECONDS=60 tc upgrade > upgrade.out 2>&1 &
client=$!
wait_for 30 grep -q "test pause at deploy" upgrade.out
daemon_pid=$(pgrep -f -- "--sysroot=$SYSROOT" | head -n 1)
[ -n "$daemon_pid" ] || fatal "no treectld found for $SYSROOT"
kill -9 "$daemon_pid"
rc=0
wait "$client" || rc=$?
assert_strneq "$rc" 0
assert_file_has_content upgrade.out "lost the connection to treectld"
ok "a client whose treectld is killed mid-deploy reports it"

tc status > status.txt
assert_file_has_content status.txt "Version: 1.0"
assert_not_file_has_content status.txt "Version: 2.0"
assert_streq "$(deployment_count)" 1
assert_streq "$(default_checksum)" "$v1"
ls "$SYSROOT"/boot/loader/entries/ > entries.txt
assert_streq "$(wc -l < entries.txt)" 1
ostree fsck --repo="$SYSROOT/ostree/repo" >/dev/null
ok "after the kill, status works and the sysroot still has exactly the old deployment"

tc upgrade > upgrade2.out
assert_streq "$(deployment_count)" 2
tc status --json > status.json
assert_streq "$(jq -r '.deployments[0].version' status.json)" "2.0"
assert_streq "$(jq -r '.deployments[1].checksum' status.json)" "$v1"
find "$SYSROOT/ostree/deploy/$TEST_OS/deploy" -mindepth 1 -maxdepth 1 -type d > dirs.txt
assert_streq "$(wc -l < dirs.txt)" 2
ok "retrying the upgrade succeeds and the interrupted checkout is cleaned up"

# Two private daemons on one sysroot: the second finds the sysroot locked.
commit_os "$TEST_REF" 3.0 >/dev/null
TREECTL_TEST_PAUSE=deploy TREECTL_TEST_PAUSE_SECONDS=5 tc upgrade > first.out 2>&1 &
first=$!
wait_for 30 grep -q "test pause at deploy" first.out
run_expect_fail "is locked by another process" tc rollback
wait "$first"
assert_file_has_content first.out "Deployed"
tc status --json > status.json
assert_streq "$(jq -r '.deployments[0].version' status.json)" "3.0"
ok "a second daemon's transaction fails cleanly while the sysroot is locked"

done_testing
