#!/bin/bash
. "${TREECTL_SRCDIR:-$(dirname "$0")/..}/tests/libtest.sh"
# treectl cleanup: removing rollback deployments and pruning the repository.

setup_test_sysroot
repo=$(sysroot_repo)
v1=$(default_checksum)
v1_dep=$(deployment_list)

run_expect_fail "at least one of --pending, --rollback, --repo" tc cleanup
run_expect_fail "cleanup takes no arguments" tc cleanup --rollback extra
assert_streq "$(deployment_list)" "$v1_dep"
ok "cleanup without an element (or with an argument) fails"

v2=$(commit_os "$TEST_REF" 2.0)
run_expect_rc 0 tc upgrade
v2_dep=$(deployment_list | sed -n 1p)
assert_streq "$(deployment_count)" 2

# A pinned rollback deployment is kept.
ostree admin --sysroot="$SYSROOT" pin 1 >/dev/null
assert_streq "$(json_dep 1 pinned)" true
run_expect_rc 0 tc cleanup --rollback
assert_file_has_content_literal out.txt "No deployments to remove."
assert_streq "$(deployment_count)" 2
ostree admin --sysroot="$SYSROOT" pin --unpin 1 >/dev/null
assert_streq "$(json_dep 1 pinned)" false
ok "cleanup --rollback keeps a pinned rollback deployment"

run_expect_rc 0 tc cleanup --rollback
cp err.txt cleanup-rollback-err.txt
assert_file_has_content_literal out.txt "Removed 1 deployment(s)."
assert_streq "$(deployment_count)" 1
assert_streq "$(deployment_list)" "$v2_dep"
assert_streq "$(bls_entry_count)" 1
assert_file_has_content_literal "$(bls_default_entry)" "title TreeCtl Test OS 2.0"
assert_not_has_file "$(deploy_dir "$v1_dep")"
assert_streq "$(json_dep 0 rollback)" false
ok "cleanup --rollback removes the rollback deployment and its boot entry"

# The repository must still hold everything the remaining deployment needs.
ostree --repo="$repo" show "$v2" >/dev/null || fatal "commit $v2 of the remaining deployment is gone"
ostree fsck --repo="$repo" >/dev/null || fatal "ostree fsck fails after cleanup --rollback"
assert_streq "$(json_dep 0 version)" 2.0
assert_not_file_has_content cleanup-rollback-err.txt 'CRITICAL'
ok "after cleanup --rollback the repository is intact (fsck passes, v2 commit present)"

run_expect_rc 0 tc cleanup --rollback
assert_file_has_content_literal out.txt "No deployments to remove."
assert_streq "$(deployment_list)" "$v2_dep"
ok "cleanup --rollback with no rollback left changes nothing"

# An extra ref pulled and then dropped leaves objects nothing uses.
d5=$(commit_os testos/x86_64/devel 5.0)
ostree --repo="$repo" pull "$TEST_REMOTE" testos/x86_64/devel >/dev/null
ostree --repo="$repo" show "$d5" >/dev/null
ostree --repo="$repo" refs --delete "$TEST_REMOTE:testos/x86_64/devel"
run_expect_rc 0 tc cleanup --repo
assert_file_has_content out.txt '^Pruned [1-9][0-9]* of [0-9]* objects, freed '
assert_not_file_has_content err.txt 'CRITICAL'
if ostree --repo="$repo" show "$d5" >/dev/null 2>&1; then fatal "unreferenced commit $d5 not pruned"; fi
if ostree --repo="$repo" show "$v1" >/dev/null 2>&1; then fatal "commit $v1 of the removed deployment not pruned"; fi
ostree --repo="$repo" show "$v2" >/dev/null
assert_streq "$(ostree --repo="$repo" rev-parse "$TEST_REMOTE:$TEST_REF")" "$v2"
ostree fsck --repo="$repo" >/dev/null
ok "cleanup --repo prints Pruned, drops unused commits (v1, dropped ref) and keeps v2; fsck passes"

run_expect_rc 0 tc cleanup --repo
assert_file_has_content out.txt '^Pruned 0 of [0-9]* objects, freed 0'
ostree fsck --repo="$repo" >/dev/null
ok "a second cleanup --repo has nothing to prune"

run_expect_rc 0 tc cleanup --pending
assert_file_has_content_literal out.txt "No deployments to remove."
assert_streq "$(deployment_list)" "$v2_dep"
ok "cleanup --pending on an unbooted sysroot removes nothing"

v3=$(commit_os "$TEST_REF" 3.0)
run_expect_rc 0 tc upgrade
assert_streq "$(default_checksum)" "$v3"
ostree fsck --repo="$repo" >/dev/null
ok "upgrades still work after cleanups"

done_testing
