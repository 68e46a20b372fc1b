#!/bin/bash
. "${TREECTL_SRCDIR:-$(dirname "$0")/..}/tests/libtest.sh"
# treectl --sysroot DIR init: happy paths, and bad inputs that must leave DIR empty.

setup_test_sysroot
v1=$(ostree --repo="$SRV_REPO" rev-parse "$TEST_REF")
assert_file_has_content_literal init.log "Imported 1 GPG key(s) for remote \"$TEST_REMOTE\""
assert_file_has_content_literal init.log "Deployed $v1 (version 1.0) as stateroot \"$TEST_OS\""
ok "init pulls and deploys the ref's commit"

assert_streq "$(deployment_count)" 1
assert_streq "$(default_checksum)" "$v1"
ostree_status > ostree-status.txt
assert_file_has_content_literal ostree-status.txt "origin refspec: $TEST_REMOTE:$TEST_REF"
assert_file_has_content_literal ostree-status.txt "Good signature from \"treectl test"
ok "stock ostree admin status lists the one deployment with its origin"

assert_streq "$(bls_entry_count)" 1
entry=$(bls_default_entry)
assert_file_has_content "$entry" '^options rw console=ttyS0 ostree=/ostree/boot\.[01]/testos/'
assert_file_has_content_literal "$entry" "title TreeCtl Test OS 1.0"
assert_file_has_content "$entry" '^linux /ostree/testos-[0-9a-f]*/vmlinuz-6.1.0-treectl$'
ok "BLS entry written with the --karg options"

dep=$(default_deploy_dir)
assert_streq "$(cat "$dep/etc/treectl/base.conf")" "default-config-1.0"
assert_streq "$(cat "$dep/etc/hostname")" "treectl-test"
assert_streq "$(cat "$dep/usr/etc/treectl/base.conf")" "default-config-1.0"
ok "deployment has /etc populated from usr/etc"

orig=$(origin_file "$(deployment_list | sed -n 1p)")
assert_has_file "$orig"
assert_streq "$(sed -n 's/^refspec=//p' "$orig")" "$TEST_REMOTE:$TEST_REF"
assert_not_file_has_content "$orig" 'override-commit'
ok "origin file records the refspec"

repo=$(sysroot_repo)
assert_streq "$(ostree --repo="$repo" config get "remote \"$TEST_REMOTE\".gpg-verify")" true
assert_streq "$(ostree --repo="$repo" remote show-url "$TEST_REMOTE")" "$HTTP_URL/repo"
ostree --repo="$repo" remote gpg-list-keys "$TEST_REMOTE" > keys.txt
assert_file_has_content_literal keys.txt "$TEST_GPG_KEYID"
assert_not_file_has_content keys.txt "$OTHER_GPG_KEYID"
assert_streq "$(ostree --repo="$repo" config get sysroot.bootloader)" none
ok "remote configured with gpg-verify=true and only the given key trusted"

ostree fsck --repo="$repo" >/dev/null
ok "ostree fsck passes on the new sysroot repo"

json_status > status.json
assert_streq "$(jq -r '."treectl-status-version"' status.json)" 1
assert_streq "$(jq -r '.deployments | length' status.json)" 1
assert_streq "$(jq -r '.deployments[0].version' status.json)" 1.0
assert_streq "$(jq -r '.deployments[0].checksum' status.json)" "$v1"
assert_streq "$(jq -r '.deployments[0].osname' status.json)" "$TEST_OS"
assert_streq "$(jq -r '.deployments[0].origin' status.json)" "$TEST_REMOTE:$TEST_REF"
assert_streq "$(jq -r '.deployments[0]."gpg-enabled"' status.json)" true
assert_streq "$(jq -r '.deployments[0].signature' status.json)" "valid signature by $TEST_GPG_KEYID"
assert_streq "$(jq -r '.deployments[0].kargs' status.json)" "rw console=ttyS0"
assert_streq "$(jq -r '.deployments[0].default' status.json)" true
assert_streq "$(jq -r '.deployments[0].rollback' status.json)" false
ok "status --json: version 1.0, valid signature, kargs"

# --no-gpg-verify
SYSROOT=$test_tmpdir/nogpg
mkdir "$SYSROOT"
treectl --sysroot "$SYSROOT" init --os "$TEST_OS" --url "$HTTP_URL/repo" --no-gpg-verify \
  "$TEST_REMOTE:$TEST_REF" > init2.log
assert_streq "$(default_checksum)" "$v1"
assert_streq "$(ostree --repo="$SYSROOT/ostree/repo" config get "remote \"$TEST_REMOTE\".gpg-verify")" false
assert_streq "$(json_dep 0 '"gpg-enabled"')" false
assert_streq "$(json_dep 0 version)" 1.0
# No --karg: options carry only the ostree= argument.
assert_file_has_content "$(bls_default_entry)" '^options ostree=/ostree/boot\.[01]/testos/[0-9a-f]*/0$'
ok "init --no-gpg-verify deploys without a trusted key, gpg-verify=false"

# Bad inputs. Each must fail with its message and leave the directory empty.
d=$test_tmpdir/bad
mkdir "$d"
init_bad() { treectl --sysroot "$d" init "$@"; }
good_url=$HTTP_URL/repo
key=$test_tmpdir/test-key.asc

touch "$d/leftover"
run_expect_fail "is not empty" init_bad --os "$TEST_OS" --url "$good_url" --gpg-key "$key" "$TEST_REMOTE:$TEST_REF"
assert_file_has_content_literal err.txt 'found "leftover"'
assert_streq "$(ls -A "$d")" leftover
rm "$d/leftover"
ok "init refuses a non-empty directory and leaves its content alone"

run_expect_fail "init needs --os NAME" init_bad --url "$good_url" --gpg-key "$key" "$TEST_REMOTE:$TEST_REF"
assert_dir_empty "$d"
ok "init without --os fails"

run_expect_fail "init needs --url URL" init_bad --os "$TEST_OS" --gpg-key "$key" "$TEST_REMOTE:$TEST_REF"
assert_dir_empty "$d"
ok "init without --url fails"

run_expect_fail "init needs exactly one of --gpg-key FILE and --no-gpg-verify" \
  init_bad --os "$TEST_OS" --url "$good_url" "$TEST_REMOTE:$TEST_REF"
assert_dir_empty "$d"
ok "init with neither --gpg-key nor --no-gpg-verify fails"

run_expect_fail "init needs exactly one of --gpg-key FILE and --no-gpg-verify" \
  init_bad --os "$TEST_OS" --url "$good_url" --gpg-key "$key" --no-gpg-verify "$TEST_REMOTE:$TEST_REF"
assert_dir_empty "$d"
ok "init with both --gpg-key and --no-gpg-verify fails"

run_expect_fail "init needs REMOTE:REF, got \"$TEST_REF\"" \
  init_bad --os "$TEST_OS" --url "$good_url" --gpg-key "$key" "$TEST_REF"
assert_dir_empty "$d"
ok "init with a refspec lacking the remote fails"

run_expect_fail "init needs exactly one REMOTE:REF" init_bad --os "$TEST_OS" --url "$good_url" --gpg-key "$key"
assert_dir_empty "$d"
ok "init without a refspec fails"

run_expect_fail "expected an http://, https:// or file:// URL" \
  init_bad --os "$TEST_OS" --url "ftp://127.0.0.1/repo" --gpg-key "$key" "$TEST_REMOTE:$TEST_REF"
assert_dir_empty "$d"
ok "init with a non-http URL fails"

run_expect_fail "pulling $TEST_REMOTE:$TEST_REF" \
  init_bad --os "$TEST_OS" --url "http://127.0.0.1:1/repo" --gpg-key "$key" "$TEST_REMOTE:$TEST_REF"
assert_dir_empty "$d"
ok "init with an unreachable URL fails while pulling and empties the directory"

run_expect_fail "pulling $TEST_REMOTE:testos/x86_64/nosuch" \
  init_bad --os "$TEST_OS" --url "$good_url" --gpg-key "$key" "$TEST_REMOTE:testos/x86_64/nosuch"
assert_file_has_content_literal err.txt "testos/x86_64/nosuch"
assert_dir_empty "$d"
ok "init with an unknown ref fails and empties the directory"

run_expect_fail "--gpg-key" \
  init_bad --os "$TEST_OS" --url "$good_url" --gpg-key "$test_tmpdir/no-such-key.asc" "$TEST_REMOTE:$TEST_REF"
assert_file_has_content_literal err.txt "no-such-key.asc"
assert_dir_empty "$d"
ok "init with a missing --gpg-key file fails"

# A key file without any key in it.
: > "$test_tmpdir/empty-key.asc"
run_expect_fail "the GPG key file is empty" \
  init_bad --os "$TEST_OS" --url "$good_url" --gpg-key "$test_tmpdir/empty-key.asc" "$TEST_REMOTE:$TEST_REF"
assert_dir_empty "$d"
ok "init with an empty --gpg-key file fails and empties the directory"

# Commits signed by a key other than the trusted one are rejected.
run_expect_fail "public key not found" \
  init_bad --os "$TEST_OS" --url "$good_url" --gpg-key "$test_tmpdir/other-key.asc" "$TEST_REMOTE:$TEST_REF"
assert_file_has_content_literal err.txt "pulling $TEST_REMOTE:$TEST_REF"
assert_dir_empty "$d"
ok "init trusting only another key fails signature verification and empties the directory"

run_expect_fail "not a directory" \
  treectl --sysroot "$test_tmpdir/missing" init --os "$TEST_OS" --url "$good_url" --gpg-key "$key" "$TEST_REMOTE:$TEST_REF"
assert_not_has_file "$test_tmpdir/missing"
ok "init into a missing directory fails"

# After all those failures the directory is still usable.
SYSROOT=$d
tc init --os "$TEST_OS" --url "$good_url" --gpg-key "$key" --karg quiet "$TEST_REMOTE:$TEST_REF" > init3.log
assert_streq "$(default_checksum)" "$v1"
assert_file_has_content "$(bls_default_entry)" '^options quiet ostree='
ok "init succeeds in the directory after the failed attempts"

done_testing
