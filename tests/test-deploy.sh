#!/bin/bash
. "${TREECTL_SRCDIR:-$(dirname "$0")/..}/tests/libtest.sh"
# treectl deploy VERSION|CHECKSUM: deploying revisions from the origin ref's history.

setup_test_sysroot
v1=$(default_checksum)
v2=$(commit_os "$TEST_REF" 2.0)
v3=$(commit_os "$TEST_REF" 3.0)
run_expect_rc 0 tc upgrade
assert_streq "$(default_checksum)" "$v3"
assert_streq "$(json_dep 0 '"override-commit"')" null
ok "upgrade to v3 (tip), not pinned"

run_expect_rc 0 tc deploy 1.0
assert_file_has_content_literal out.txt "Deployed $v1 (version 1.0"
assert_streq "$(default_checksum)" "$v1"
assert_streq "$(deployment_count)" 2
json_status > status.json
assert_streq "$(jq -r '.deployments[0].version' status.json)" 1.0
assert_streq "$(jq -r '.deployments[0]."override-commit"' status.json)" "$v1"
assert_streq "$(jq -r '.deployments[0].origin' status.json)" "$TEST_REMOTE:$TEST_REF"
assert_streq "$(jq -r '.deployments[1].checksum' status.json)" "$v3"
assert_streq "$(jq -r '.deployments[1].rollback' status.json)" true
orig=$(origin_file "$(deployment_list | sed -n 1p)")
assert_file_has_content_literal "$orig" "override-commit=$v1"
assert_file_has_content_literal "$orig" "refspec=$TEST_REMOTE:$TEST_REF"
tc status > status.txt
assert_file_has_content_literal status.txt "PinnedCommit: $v1"
ok "deploy 1.0 deploys the older v1, pinned through override-commit"

# v2 was never deployed here: its content has to be pulled.
run_expect_rc 0 tc deploy "${v2:0:10}"
assert_file_has_content_literal out.txt "Deployed $v2 (version 2.0"
assert_streq "$(default_checksum)" "$v2"
assert_streq "$(json_dep 0 version)" 2.0
assert_streq "$(json_dep 0 '"override-commit"')" "$v2"
assert_streq "$(cat "$(default_deploy_dir)/etc/treectl/base.conf")" "default-config-2.0"
ostree fsck --repo="$(sysroot_repo)" >/dev/null
ok "deploy by a 10-digit checksum prefix deploys v2"

before=$(deployment_list)
run_expect_rc 77 tc deploy "${v2:0:10}"
assert_file_has_content_literal out.txt "Revision already deployed."
run_expect_rc 77 tc deploy 2.0
run_expect_rc 77 tc deploy "$v2"
assert_streq "$(deployment_list)" "$before"
ok "deploying the current default again exits 77 and changes nothing"

run_expect_fail "version \"9.9\" not found in the history of $TEST_REMOTE:$TEST_REF" tc deploy 9.9
assert_streq "$(deployment_list)" "$before"
ok "unknown version is reported"

run_expect_fail "commit \"deadbeefdead\" not found in the history of $TEST_REMOTE:$TEST_REF" tc deploy deadbeefdead
assert_streq "$(deployment_list)" "$before"
ok "unknown checksum prefix is reported"

run_expect_fail "deploy needs exactly one VERSION or CHECKSUM" tc deploy
run_expect_fail "deploy needs exactly one VERSION or CHECKSUM" tc deploy 1.0 2.0
assert_streq "$(deployment_list)" "$before"
ok "deploy without exactly one revision fails"

run_expect_rc 0 tc deploy "$v3"
assert_streq "$(default_checksum)" "$v3"
assert_streq "$(json_dep 0 '"override-commit"')" "$v3"
ok "deploy by full checksum"

run_expect_rc 0 tc deploy 1.0
assert_streq "$(default_checksum)" "$v1"
run_expect_rc 0 tc upgrade
assert_file_has_content_literal out.txt "Deployed $v3 (version 3.0"
assert_streq "$(default_checksum)" "$v3"
json_status > status.json
assert_streq "$(jq -r '.deployments[0].version' status.json)" 3.0
assert_streq "$(jq -r '.deployments[0]."override-commit"' status.json)" null
assert_not_file_has_content "$(origin_file "$(deployment_list | sed -n 1p)")" 'override-commit'
ok "upgrade from a pinned revision goes back to the tip (v3) and clears the pin"

run_expect_rc 77 tc upgrade
ok "after that, upgrade has nothing to do"

done_testing
