#!/bin/bash
. "${TREECTL_SRCDIR:-$(dirname "$0")/..}/tests/libtest.sh"
# treectl rebase REMOTE:REF|REF: switching the origin to another ref (and remote).

setup_test_sysroot
repo=$(sysroot_repo)
DEVEL_REF=testos/x86_64/devel
v1=$(default_checksum)
v1_dep=$(deployment_list)
d5=$(commit_os "$DEVEL_REF" 5.0)

run_expect_rc 0 tc rebase "$TEST_REMOTE:$DEVEL_REF"
assert_file_has_content_literal out.txt "Deployed $d5 (version 5.0"
assert_streq "$(default_checksum)" "$d5"
assert_streq "$(deployment_list | sed -n 2p)" "$v1_dep"
ostree_status > ostree-status.txt
assert_file_has_content_literal ostree-status.txt "origin refspec: $TEST_REMOTE:$DEVEL_REF"
assert_file_has_content_literal ostree-status.txt "origin refspec: $TEST_REMOTE:$TEST_REF"
ok "rebase to $TEST_REMOTE:$DEVEL_REF deploys its commit, old deployment kept"

json_status > status.json
assert_streq "$(jq -r '.deployments[0].origin' status.json)" "$TEST_REMOTE:$DEVEL_REF"
assert_streq "$(jq -r '.deployments[0].version' status.json)" 5.0
assert_streq "$(jq -r '.deployments[0].signature' status.json)" "valid signature by $TEST_GPG_KEYID"
assert_streq "$(jq -r '.deployments[1].origin' status.json)" "$TEST_REMOTE:$TEST_REF"
assert_streq "$(jq -r '.deployments[1].rollback' status.json)" true
orig=$(origin_file "$(deployment_list | sed -n 1p)")
assert_streq "$(sed -n 's/^refspec=//p' "$orig")" "$TEST_REMOTE:$DEVEL_REF"
assert_streq "$(sed -n 's/^refspec=//p' "$(origin_file "$v1_dep")")" "$TEST_REMOTE:$TEST_REF"
assert_streq "$(ostree --repo="$repo" rev-parse "$TEST_REMOTE:$DEVEL_REF")" "$d5"
ok "status and origin file show the new refspec and version 5.0"

before=$(deployment_list)
run_expect_rc 77 tc rebase "$TEST_REMOTE:$DEVEL_REF"
assert_streq "$(deployment_list)" "$before"
ok "rebase to the ref and commit already deployed exits 77"

# Later upgrades follow the new ref. The stable ref gets a commit older than devel's tip.
s11=$(commit_os "$TEST_REF" 1.1)
d51=$(commit_os "$DEVEL_REF" 5.1)
run_expect_rc 0 tc upgrade
assert_streq "$(default_checksum)" "$d51"
assert_streq "$(json_dep 0 version)" 5.1
ok "upgrade after the rebase follows $DEVEL_REF"

# A bare ref keeps the current remote (and may go back in time).
run_expect_rc 0 tc rebase "$TEST_REF"
assert_streq "$(default_checksum)" "$s11"
assert_streq "$(json_dep 0 origin)" "$TEST_REMOTE:$TEST_REF"
assert_streq "$(json_dep 0 version)" 1.1
assert_streq "$(sed -n 's/^refspec=//p' "$(origin_file "$(deployment_list | sed -n 1p)")")" "$TEST_REMOTE:$TEST_REF"
ok "rebase by bare ref name keeps the remote, older commit allowed"

# A second remote for the same server, without GPG verification.
ostree --repo="$repo" remote add --no-gpg-verify mirror "$HTTP_URL/repo"
run_expect_rc 0 tc rebase "mirror:$DEVEL_REF"
assert_streq "$(default_checksum)" "$d51"
assert_streq "$(json_dep 0 origin)" "mirror:$DEVEL_REF"
assert_streq "$(json_dep 0 '"gpg-enabled"')" false
ok "rebase to another remote's ref (mirror:$DEVEL_REF)"

run_expect_rc 0 tc rebase "$TEST_REF"
assert_streq "$(default_checksum)" "$s11"
assert_streq "$(json_dep 0 origin)" "mirror:$TEST_REF"
assert_streq "$(sed -n 's/^refspec=//p' "$(origin_file "$(deployment_list | sed -n 1p)")")" "mirror:$TEST_REF"
ok "bare ref after that stays on the mirror remote"

before=$(deployment_list)
orig=$(origin_file "$(deployment_list | sed -n 1p)")
cp "$orig" origin-before
run_expect_fail 'remote "nosuch" not found' tc rebase "nosuch:$TEST_REF"
assert_file_has_content_literal err.txt "configured remotes:"
assert_streq "$(deployment_list)" "$before"
cmp origin-before "$orig"
ok "rebase to an unknown remote fails, deployments and origin unchanged"

run_expect_fail "pulling $TEST_REMOTE:testos/x86_64/nosuch" tc rebase "$TEST_REMOTE:testos/x86_64/nosuch"
assert_streq "$(deployment_list)" "$before"
cmp origin-before "$orig"
ok "rebase to an unknown ref fails while pulling, nothing changed"

run_expect_fail "empty remote name" tc rebase ":$TEST_REF"
run_expect_fail "empty ref" tc rebase "$TEST_REMOTE:"
run_expect_fail "rebase needs exactly one REMOTE:REF" tc rebase
assert_streq "$(deployment_list)" "$before"
ok "malformed refspecs and a missing argument are rejected"

ostree fsck --repo="$repo" >/dev/null
ok "ostree fsck passes after the rebases"

done_testing
