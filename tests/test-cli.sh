#!/bin/bash
. "${TREECTL_SRCDIR:-$(dirname "$0")/..}/tests/libtest.sh"
# treectl command line: help, version, bad commands and options, bad sysroots, status output.

run_expect_rc 0 treectl --help
assert_file_has_content out.txt '^Usage: treectl \[--sysroot DIR\] COMMAND'
for verb in status upgrade deploy rebase rollback install uninstall override cleanup kargs cancel init compose db; do
  assert_file_has_content out.txt "^  $verb "
done
assert_file_has_content_literal out.txt "--sysroot DIR"
assert_file_has_content_literal out.txt "--version"
run_expect_rc 0 treectl -h
assert_file_has_content out.txt '^Usage: treectl'
ok "treectl --help lists every command and the global options"

run_expect_rc 0 treectl --version
assert_file_has_content out.txt '^treectl [0-9][0-9.]*$'
assert_file_has_content_literal out.txt "host: status upgrade deploy rebase rollback cleanup kargs cancel init"
ok "treectl --version prints the version and features"

# verb_help VERB STRING...: VERB --help exits 0 and mentions every STRING.
verb_help() {
  local verb=$1; shift
  run_expect_rc 0 treectl "$verb" --help
  assert_file_has_content_literal out.txt "treectl $verb"
  for s in "$@"; do assert_file_has_content_literal out.txt "$s"; done
}
verb_help status --json --verbose --sysroot
verb_help upgrade --check --preview --allow-downgrade --reboot --os --sysroot
verb_help install "PACKAGE|FILE.rpm" --dry-run --assumeyes --idempotent --reboot --os
verb_help uninstall "PACKAGE...|--all" --all --dry-run --idempotent --reboot --os
verb_help override remove replace reset --all --dry-run --idempotent --reboot --os
verb_help deploy "VERSION|CHECKSUM" --reboot --os
verb_help rebase "REMOTE:REF" --reboot --os
verb_help rollback --reboot --os
verb_help cleanup --pending --rollback --repo --os
verb_help kargs --append --delete --replace --os
verb_help cancel "cancel the running transaction"
verb_help init --os --url --gpg-key --no-gpg-verify --karg "REMOTE:REF"
ok "every verb's --help exits 0 and lists its options"

run_expect_fail 'unknown command "frobnicate"' treectl frobnicate
assert_file_has_content err.txt '^Usage: treectl'
ok "unknown command fails with a clear message and the usage"

run_expect_fail "unknown global option --frob" treectl --frob status
run_expect_fail "Unknown option --frob" treectl status --frob
run_expect_fail "no command given" treectl
ok "unknown options and a missing command fail with clear messages"

run_expect_fail "--sysroot /nonexistent: not a directory" treectl --sysroot /nonexistent status
touch "$test_tmpdir/plainfile"
run_expect_fail "not a directory" treectl --sysroot "$test_tmpdir/plainfile" status
ok "--sysroot naming something that is not a directory fails"

empty=$(mktemp -d "$test_tmpdir/empty.XXXXXX")
run_expect_fail "not an ostree sysroot" treectl --sysroot "$empty" status
assert_file_has_content_literal err.txt "$empty"
run_expect_fail "not an ostree sysroot" treectl --sysroot "$empty" upgrade
run_expect_fail "not an ostree sysroot" treectl --sysroot "$empty" kargs
assert_dir_empty "$empty"
ok "status and other verbs on an empty directory fail: not an ostree sysroot"

setup_test_sysroot
v1=$(default_checksum)
run_expect_rc 0 tc status --json
jq -e . out.txt >/dev/null || fatal "status --json is not valid JSON"
assert_streq "$(jq -r '."treectl-status-version"' out.txt)" 1
assert_streq "$(jq -r '.sysroot' out.txt)" "$(readlink -f "$SYSROOT")"
assert_streq "$(jq -r '.transaction' out.txt)" null
assert_streq "$(jq -r '.deployments[0].id' out.txt)" "$TEST_OS-$v1.0"
assert_streq "$(jq -r '.deployments[0].index' out.txt)" 0
assert_streq "$(jq -r '.deployments[0].serial' out.txt)" 0
assert_streq "$(jq -r '.deployments[0].booted' out.txt)" false
assert_streq "$(jq -r '.deployments[0].staged' out.txt)" false
assert_streq "$(jq -r '.deployments[0].pinned' out.txt)" false
assert_streq "$(jq -r '.deployments[0].pending' out.txt)" false
ts=$(jq -r '.deployments[0].timestamp' out.txt)
ostree --repo="$(sysroot_repo)" show "$v1" > show.txt
assert_file_has_content_literal show.txt "Date:  $(date -u -d "@$ts" '+%Y-%m-%d %H:%M:%S') +0000"
ok "status --json is valid JSON with treectl-status-version 1 and the documented keys"

run_expect_rc 0 tc status
assert_file_has_content out.txt "^  $TEST_REMOTE:$TEST_REF (default)"
assert_file_has_content out.txt "Version: 1.0"
assert_file_has_content out.txt "Commit: ${v1:0:12}$"
run_expect_rc 0 tc status -v
assert_file_has_content out.txt "Commit: $v1$"
assert_file_has_content out.txt "KernelArgs: rw console=ttyS0$"
run_expect_rc 0 treectl --sysroot="$SYSROOT" status
assert_file_has_content out.txt "Version: 1.0"
ok "status text output (and -v, --sysroot=DIR form)"

run_expect_fail "status takes no arguments" tc status extra
run_expect_fail "upgrade takes no arguments" tc upgrade extra
run_expect_fail "--check and --preview cannot be combined with --reboot" tc upgrade --check --reboot
run_expect_fail "--check and --preview cannot be combined with --reboot" tc upgrade --preview --reboot
ok "verbs reject stray arguments and conflicting options"

# --sysroot without its argument: the option is known, the argument is missing.
run_expect_rc 1 treectl --sysroot
if grep -q "unknown global option" err.txt; then
  sed -e 's/^/| /' err.txt >&2
  fatal "treectl --sysroot without DIR is reported as an unknown option"
fi
assert_file_has_content_literal err.txt "--sysroot"
ok "--sysroot without DIR reports the missing argument"

done_testing
