#!/bin/bash
. "${TREECTL_SRCDIR:-$(dirname "$0")/..}/tests/libtest.sh"
# treectl kargs: printing and changing kernel arguments.

setup_test_sysroot
v1=$(default_checksum)
v1_dep=$(deployment_list)

run_expect_rc 0 tc kargs
assert_streq "$(cat out.txt)" "rw console=ttyS0"
ok "kargs prints the kernel arguments given at init"

run_expect_rc 0 tc kargs --append foo=bar
assert_file_has_content_literal out.txt "Kernel arguments are now: rw console=ttyS0 foo=bar"
assert_streq "$(deployment_count)" 2
assert_streq "$(default_checksum)" "$v1"
new_dep=$(deployment_list | sed -n 1p)
assert_strneq "$new_dep" "$v1_dep"
assert_streq "$(deployment_list | sed -n 2p)" "$v1_dep"
ok "kargs --append deploys the same commit again as a new default"

entry=$(bls_default_entry)
assert_file_has_content "$entry" '^options rw console=ttyS0 foo=bar ostree='
assert_streq "$(bls_entry_target "$entry")" "$(readlink -f "$(deploy_dir "$new_dep")")"
run_expect_rc 0 tc kargs
assert_streq "$(cat out.txt)" "rw console=ttyS0 foo=bar"
assert_streq "$(json_dep 0 kargs)" "rw console=ttyS0 foo=bar"
ok "the new BLS entry and kargs show foo=bar"

assert_streq "$(json_dep 1 kargs)" "rw console=ttyS0"
assert_streq "$(json_dep 1 rollback)" true
for f in "$SYSROOT"/boot/loader/entries/ostree-*.conf; do
  [ "$f" = "$entry" ] && continue
  assert_file_has_content "$f" '^options rw console=ttyS0 ostree='
  assert_streq "$(bls_entry_target "$f")" "$(readlink -f "$(deploy_dir "$v1_dep")")"
done
ok "the rollback deployment keeps the old arguments"

run_expect_rc 0 tc kargs --replace console=ttyS0=ttyS1
assert_file_has_content "$(bls_default_entry)" '^options rw console=ttyS1 foo=bar ostree='
assert_streq "$(json_dep 0 kargs)" "rw console=ttyS1 foo=bar"
assert_streq "$(json_dep 1 kargs)" "rw console=ttyS0 foo=bar"
assert_streq "$(default_checksum)" "$v1"
ok "kargs --replace console=ttyS0=ttyS1"

run_expect_rc 0 tc kargs --delete foo=bar
assert_file_has_content "$(bls_default_entry)" '^options rw console=ttyS1 ostree='
assert_streq "$(json_dep 0 kargs)" "rw console=ttyS1"
ok "kargs --delete foo=bar"

before=$(deployment_list)
run_expect_fail "nosuch" tc kargs --delete nosuch=1
assert_file_has_content_literal err.txt "--delete nosuch=1"
run_expect_fail "console=ttyS9" tc kargs --replace console=ttyS9=ttyS2
run_expect_fail "expected KEY=VALUE or KEY=OLD=NEW" tc kargs --replace console
run_expect_fail "not a single KEY or KEY=VALUE argument" tc kargs --append "a b"
run_expect_fail "kargs takes options only" tc kargs foo=bar
assert_streq "$(deployment_list)" "$before"
assert_streq "$(json_dep 0 kargs)" "rw console=ttyS1"
ok "invalid changes fail naming the argument, nothing deployed"

run_expect_rc 77 tc kargs --replace console=ttyS1=ttyS1
assert_file_has_content_literal out.txt "Kernel arguments unchanged."
run_expect_rc 77 tc kargs --replace console=ttyS1
assert_streq "$(deployment_list)" "$before"
ok "a change that leaves the arguments as they are exits 77, nothing deployed"

v2=$(commit_os "$TEST_REF" 2.0)
run_expect_rc 0 tc upgrade
assert_streq "$(default_checksum)" "$v2"
entry=$(bls_default_entry)
assert_file_has_content_literal "$entry" "title TreeCtl Test OS 2.0"
assert_file_has_content "$entry" '^options rw console=ttyS1 ostree='
assert_streq "$(json_dep 0 kargs)" "rw console=ttyS1"
ok "kernel arguments carry over into a later upgrade"

done_testing
