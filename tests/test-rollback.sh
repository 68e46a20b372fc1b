#!/bin/bash
. "${TREECTL_SRCDIR:-$(dirname "$0")/..}/tests/libtest.sh"
# treectl rollback: swapping the default and the rollback deployment.

setup_test_sysroot
v1=$(default_checksum)
v1_dep=$(deployment_list)

run_expect_fail "no rollback deployment" tc rollback
assert_file_has_content_literal err.txt "stateroot \"$TEST_OS\" has only one deployment"
assert_streq "$(deployment_list)" "$v1_dep"
ok "rollback with a single deployment fails"

v2=$(commit_os "$TEST_REF" 2.0)
run_expect_rc 0 tc upgrade
v2_dep=$(deployment_list | sed -n 1p)
assert_streq "$(default_checksum)" "$v2"
entry=$(bls_default_entry)
assert_file_has_content_literal "$entry" "title TreeCtl Test OS 2.0"
assert_streq "$(bls_entry_target "$entry")" "$(readlink -f "$(deploy_dir "$v2_dep")")"
ok "after upgrade v2 is default, its BLS entry has the highest version"

run_expect_rc 0 tc rollback
assert_file_has_content_literal out.txt "Moved $v1_dep (version 1.0) to be the default deployment"
assert_streq "$(deployment_list | tr '\n' ' ')" "$v1_dep $v2_dep "
assert_streq "$(default_checksum)" "$v1"
ok "rollback makes v1 the default (ostree admin status order)"

entry=$(bls_default_entry)
assert_file_has_content_literal "$entry" "title TreeCtl Test OS 1.0"
assert_streq "$(bls_entry_target "$entry")" "$(readlink -f "$(deploy_dir "$v1_dep")")"
assert_streq "$(bls_entry_count)" 2
ok "the highest-version BLS entry boots v1 (title 1.0)"

json_status > status.json
assert_streq "$(jq -r '.deployments[0].version' status.json)" 1.0
assert_streq "$(jq -r '.deployments[0].default' status.json)" true
assert_streq "$(jq -r '.deployments[1].version' status.json)" 2.0
assert_streq "$(jq -r '.deployments[1].rollback' status.json)" true
ok "status --json: 1.0 default, 2.0 rollback"

run_expect_rc 0 tc rollback
assert_streq "$(deployment_list | tr '\n' ' ')" "$v2_dep $v1_dep "
entry=$(bls_default_entry)
assert_file_has_content_literal "$entry" "title TreeCtl Test OS 2.0"
assert_streq "$(bls_entry_target "$entry")" "$(readlink -f "$(deploy_dir "$v2_dep")")"
assert_streq "$(json_dep 0 version)" 2.0
assert_streq "$(json_dep 1 rollback)" true
ok "rollback again swaps back to v2"

run_expect_fail "rollback takes no arguments" tc rollback extra
assert_streq "$(deployment_list | tr '\n' ' ')" "$v2_dep $v1_dep "
ok "rollback with an argument fails"

done_testing
