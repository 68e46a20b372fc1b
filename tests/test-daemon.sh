#!/bin/bash
# treectld on a real (private) system bus with the project's policy: activation, status for
# everyone, authorization, one transaction at a time, joining, cancel, clients that
# disconnect or never start, late clients, idle exit.
. "${TREECTL_SRCDIR:-$(dirname "$0")/..}/tests/libtest.sh"
. "$TREECTL_SRCDIR/tests/libtest-dbus.sh"
test_client="$TREECTL_BUILDDIR/tests/treectl-test-client"

setup_test_sysroot
v1=$(default_checksum)
start_system_bus 60 3

treectl status > status.txt
assert_file_has_content status.txt "testos:$TEST_REF (default)"
daemon_running
ok "treectl status activates treectld on the system bus"

as_nobody treectl status --json > status.json
assert_streq "$(jq -r '.deployments[0].checksum' status.json)" "$v1"
ok "status is open to unprivileged callers"

commit_os "$TEST_REF" 2.0 >/dev/null
run_expect_fail "not authorized: org.treectl.Treectl1.upgrade needs root" as_nobody treectl upgrade
run_expect_fail "not authorized" as_nobody treectl rollback
run_expect_fail "not authorized" as_nobody treectl kargs --append x=y
assert_streq "$(default_checksum)" "$v1"
assert_streq "$(deployment_count)" 1
ok "unprivileged mutating calls are refused and change nothing"

# A slow server keeps the next upgrade running while we poke at the daemon.
echo 0.3 > "$HTTPD_DELAY_FILE"
treectl upgrade > upgrade1.out 2>&1 &
up1=$!
wait_for 20 sh -c 'treectl status | grep -q "State: busy (transaction \"upgrade\""'
run_expect_fail 'busy: transaction "upgrade" is in progress' treectl rollback
run_expect_fail 'busy: transaction "upgrade" is in progress' treectl kargs --append x=y
run_expect_fail 'busy: transaction "upgrade" is in progress' treectl install htop
run_expect_fail 'busy: transaction "upgrade" is in progress' treectl uninstall --all
run_expect_fail 'busy: transaction "upgrade" is in progress' treectl override remove htop
ok "a different mutating call (rollback, kargs, install, uninstall, override) while one runs gets a busy error naming it"

treectl upgrade > upgrade2.out 2>&1 &
up2=$!
rm -f "$HTTPD_DELAY_FILE"
wait "$up1"
wait "$up2"
assert_file_has_content upgrade1.out "Deployed"
assert_file_has_content upgrade2.out "Deployed"
assert_streq "$(deployment_count)" 2
ok "an identical request joins the running transaction; both clients see it finish"

v2=$(default_checksum)
assert_strneq "$v2" "$v1"
commit_os "$TEST_REF" 3.0 >/dev/null
echo 0.5 > "$HTTPD_DELAY_FILE"
rc=0
treectl upgrade > cancelled.out 2>&1 &
up=$!
wait_for 20 sh -c 'treectl status | grep -q "State: busy"'
treectl cancel > cancel.out
assert_file_has_content cancel.out 'Cancelled transaction "upgrade"'
wait "$up" || rc=$?
assert_streq "$rc" 1
assert_file_has_content cancelled.out "error: cancelled"
assert_streq "$(default_checksum)" "$v2"
assert_streq "$(deployment_count)" 2
ok "cancel during a slow pull stops it and changes nothing"

treectl cancel > cancel.out
assert_file_has_content cancel.out "No transaction in progress"
ok "cancel with nothing running says so"

requests=$(wc -l < "$test_tmpdir/httpd.log")
treectl upgrade > killed-client.out 2>&1 &
up=$!
wait_for 20 sh -c 'treectl status | grep -q "State: busy"'
# "busy" starts when the transaction is created; killed before it calls Start, the client
# would have its transaction dropped (tested below). Wait until the pull is under way.
wait_for 20 sh -c "[ \$(wc -l < '$test_tmpdir/httpd.log') -gt $requests ]"
kill -9 "$up"
wait "$up" 2>/dev/null || true
rm -f "$HTTPD_DELAY_FILE"
wait_for 60 sh -c 'treectl status | grep -q "State: idle"'
treectl status --json > status.json
assert_streq "$(jq -r '.deployments[0].version' status.json)" "3.0"
ok "a client killed mid-transaction does not stop the transaction"

# A client that creates a transaction and exits without Start: it is dropped at once.
gdbus call --system --dest org.treectl.Treectl1 \
  --object-path "/org/treectl/Treectl1/OS/$TEST_OS" \
  --method org.treectl.Treectl1.OS.Rollback '{}' > /dev/null
wait_for 5 sh -c 'treectl status | grep -q "State: idle"'
assert_streq "$(jq -r '.deployments[0].version' <(treectl status --json))" "3.0"
ok "a transaction whose client disconnects before Start is dropped"

# A client that stays connected but never calls Start loses it after StartTimeout (3 s).
"$test_client" create-only 8 > nostart.out &
nostart=$!
wait_for 10 test -s nostart.out
treectl status > status.txt
assert_file_has_content status.txt "State: busy"
wait_for 10 sh -c 'treectl status | grep -q "State: idle"'
"$test_client" start "$(cat nostart.out)" > late.out 2>&1 || true
assert_file_has_content late.out "no client called Start within 3 seconds"
wait "$nostart"
ok "a transaction nobody starts times out, and a late client learns why"

# Finished is replayed to a client that connects after the end.
"$test_client" create-only 10 > create.out &
creator=$!
wait_for 10 test -s create.out
addr=$(cat create.out)
"$test_client" start "$addr" > first.out
assert_file_has_content first.out "started=true success=true"
"$test_client" start "$addr" > second.out
assert_file_has_content second.out "started=false success=true"
kill "$creator" 2>/dev/null || true
ok "Finished is replayed to a client that starts a finished transaction"

# With IdleExitTimeout=2 the daemon goes away by itself and comes back on demand.
treectl status >/dev/null
pkill -f -- "--sysroot=$SYSROOT --config=$test_tmpdir/treectld.conf" || true
wait_for 10 sh -c '! dbus-send --system --print-reply --dest=org.freedesktop.DBus /org/freedesktop/DBus org.freedesktop.DBus.NameHasOwner string:org.treectl.Treectl1 | grep -q "boolean true"'
cat > "$test_tmpdir/treectld.conf" <<CONF
[Daemon]
IdleExitTimeout=2
StartTimeout=3
CONF
treectl status > /dev/null
daemon_running
wait_for 15 sh -c '! dbus-send --system --print-reply --dest=org.freedesktop.DBus /org/freedesktop/DBus org.freedesktop.DBus.NameHasOwner string:org.treectl.Treectl1 | grep -q "boolean true"'
treectl status > status.txt
assert_file_has_content status.txt "3.0"
ok "treectld exits when idle and is activated again"

done_testing
