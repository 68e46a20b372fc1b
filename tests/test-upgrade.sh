#!/bin/bash
. "${TREECTL_SRCDIR:-$(dirname "$0")/..}/tests/libtest.sh"
# treectl upgrade: pulling and deploying the origin's ref, /etc merge, kernel arguments,
# downgrade protection, GPG and transport failures.

setup_test_sysroot
repo=$(sysroot_repo)
v1=$(default_checksum)
v1_dep=$(deployment_list)

run_expect_rc 77 tc upgrade --check
assert_file_has_content_literal out.txt "No update available."
run_expect_rc 77 tc upgrade
assert_file_has_content_literal out.txt "No update available."
assert_streq "$(deployment_list)" "$v1_dep"
ok "upgrade and upgrade --check with nothing new exit 77"

# A local change in the current deployment's /etc, and a new local file.
echo "local-edit" > "$(deploy_dir "$v1_dep")/etc/treectl/local.conf"
echo "added-locally" > "$(deploy_dir "$v1_dep")/etc/treectl/added.conf"

v2=$(commit_os "$TEST_REF" 2.0)
run_expect_rc 0 tc upgrade --check
assert_file_has_content_literal out.txt "Update available: $v2 (version 2.0"
assert_streq "$(deployment_list)" "$v1_dep"
assert_streq "$(bls_entry_count)" 1
ostree --repo="$repo" show "$v2" >/dev/null
ok "upgrade --check reports the update, exits 0 and deploys nothing"

run_expect_rc 0 tc upgrade
cp out.txt upgrade-v2.txt
assert_file_has_content_literal out.txt "Deployed $v2 (version 2.0"
assert_file_has_content out.txt 'content objects fetched'
assert_streq "$(deployment_count)" 2
assert_streq "$(default_checksum)" "$v2"
assert_streq "$(deployment_list | sed -n 2p)" "$v1_dep"
ok "upgrade deploys v2 as default, v1 stays behind it (ostree admin status)"

json_status > status.json
assert_streq "$(jq -r '.deployments[0].checksum' status.json)" "$v2"
assert_streq "$(jq -r '.deployments[0].version' status.json)" 2.0
assert_streq "$(jq -r '.deployments[0].default' status.json)" true
assert_streq "$(jq -r '.deployments[0].signature' status.json)" "valid signature by $TEST_GPG_KEYID"
assert_streq "$(jq -r '.deployments[1].checksum' status.json)" "$v1"
assert_streq "$(jq -r '.deployments[1].version' status.json)" 1.0
assert_streq "$(jq -r '.deployments[1].rollback' status.json)" true
assert_streq "$(jq -r '.deployments[1].default' status.json)" false
ok "status --json: v2 default with version 2.0, v1 rollback"

v2_dir=$(default_deploy_dir)
assert_streq "$(cat "$v2_dir/etc/treectl/local.conf")" "local-edit"
assert_streq "$(cat "$v2_dir/etc/treectl/added.conf")" "added-locally"
assert_streq "$(cat "$v2_dir/etc/treectl/base.conf")" "default-config-2.0"
assert_streq "$(cat "$v2_dir/usr/etc/treectl/base.conf")" "default-config-2.0"
# The rollback deployment's /etc is untouched by the merge.
assert_streq "$(cat "$(deploy_dir "$v1_dep")/etc/treectl/base.conf")" "default-config-1.0"
ok "/etc merge: local edits and files kept, upstream change to an untouched file applied"

assert_streq "$(bls_entry_count)" 2
entry=$(bls_default_entry)
assert_file_has_content_literal "$entry" "title TreeCtl Test OS 2.0"
assert_file_has_content "$entry" '^options rw console=ttyS0 ostree='
assert_streq "$(json_dep 0 kargs)" "rw console=ttyS0"
ok "kernel arguments carry over into the new BLS entry"

before=$(deployment_list)
run_expect_rc 77 tc upgrade
assert_file_has_content_literal out.txt "No update available."
assert_streq "$(deployment_list)" "$before"
ok "second upgrade: No update available, exit 77, nothing deployed"

# Progress over HTTP: slow the server down so periodic progress lines get printed.
v3=$(commit_os "$TEST_REF" 3.0)
echo 0.3 > "$HTTPD_DELAY_FILE"
run_expect_rc 0 tc upgrade
rm -f "$HTTPD_DELAY_FILE"
assert_file_has_content out.txt '^  Receiving objects: [0-9]*/[0-9]* ([0-9]*%)'
assert_file_has_content out.txt 'content objects fetched'
assert_file_has_content_literal out.txt "Pulling $TEST_REMOTE:$TEST_REF: done"
assert_streq "$(default_checksum)" "$v3"
ok "upgrade over slow HTTP prints progress lines"

# Downgrade protection.
v3_dep=$(deployment_list | sed -n 1p)
before=$(deployment_list)
old=$(commit_os "$TEST_REF" 0.9 --timestamp=2001-01-01)
run_expect_fail "is older than the deployed commit" tc upgrade
assert_file_has_content_literal err.txt "commit $old (version 0.9"
assert_file_has_content_literal err.txt "--allow-downgrade"
assert_streq "$(deployment_list)" "$before"
ok "upgrade refuses an older commit and changes nothing"

run_expect_fail "is older than the deployed commit" tc upgrade --check
assert_streq "$(deployment_list)" "$before"
ok "upgrade --check refuses an older commit too"

run_expect_rc 0 tc upgrade --allow-downgrade
assert_streq "$(default_checksum)" "$old"
assert_streq "$(json_dep 0 version)" 0.9
assert_streq "$(deployment_list | sed -n 2p)" "$v3_dep"
ok "upgrade --allow-downgrade deploys the older commit"

# GPG: an unsigned commit on a gpg-verify remote.
good=$(commit_os "$TEST_REF" 4.0)
run_expect_rc 0 tc upgrade
assert_streq "$(default_checksum)" "$good"
before=$(deployment_list)
unsigned=$(commit_os "$TEST_REF" 5.0 --unsigned)
run_expect_fail "GPG" tc upgrade
assert_file_has_content_literal err.txt "no signatures found"
assert_streq "$(deployment_list)" "$before"
assert_streq "$(ostree --repo="$repo" rev-parse "$TEST_REMOTE:$TEST_REF")" "$good"
ok "unsigned commit rejected with a GPG error, nothing deployed, ref not moved"

other=$(commit_os "$TEST_REF" 5.1 --sign-with-other)
run_expect_fail "public key not found" tc upgrade
assert_file_has_content_literal err.txt "Commit $other"
assert_file_has_content_literal err.txt "pulling $TEST_REMOTE:$TEST_REF"
assert_streq "$(deployment_list)" "$before"
assert_streq "$(ostree --repo="$repo" rev-parse "$TEST_REMOTE:$TEST_REF")" "$good"
ok "commit signed by an untrusted key rejected, nothing deployed"

# Corrupt objects served: first garbage, then a well-formed object with the wrong content.
ostree --repo="$SRV_REPO" reset "$TEST_REF" "$good"
ostree --repo="$SRV_REPO" summary -u >/dev/null
repo_content_objects "$SRV_REPO" > objs-before.txt
v6=$(commit_os "$TEST_REF" 6.0)
repo_content_objects "$SRV_REPO" > objs-after.txt
comm -13 objs-before.txt objs-after.txt > new-objs.txt
[ -s new-objs.txt ] || fatal "v6 added no content objects"
mkdir -p backup
while read -r o; do
  mkdir -p "backup/$(dirname "$o")"; cp "$SRV_REPO/objects/$o" "backup/$o"
  echo "garbage garbage garbage" > "$SRV_REPO/objects/$o"
done < new-objs.txt
run_expect_fail "pulling $TEST_REMOTE:$TEST_REF" tc upgrade
# The error names the offending object.
sed -e 's|^\./||' -e 's|/||' -e 's|\.filez$||' new-objs.txt > new-csums.txt
grep -q -F -f new-csums.txt err.txt || { cat err.txt >&2; fatal "error does not name a corrupt object"; }
assert_streq "$(deployment_list)" "$before"
assert_streq "$(ostree --repo="$repo" rev-parse "$TEST_REMOTE:$TEST_REF")" "$good"
ostree fsck --repo="$repo" >/dev/null
ok "garbage content object from the server: upgrade fails, nothing deployed, fsck passes"

donor=$(sed -n 1p objs-before.txt)
while read -r o; do cp "$SRV_REPO/objects/$donor" "$SRV_REPO/objects/$o"; done < new-objs.txt
run_expect_fail "Corrupted" tc upgrade
assert_file_has_content_literal err.txt "checksum"
assert_streq "$(deployment_list)" "$before"
ostree fsck --repo="$repo" >/dev/null
ok "content object with a wrong checksum: upgrade fails with Corrupted, fsck passes"

while read -r o; do cp "backup/$o" "$SRV_REPO/objects/$o"; done < new-objs.txt
run_expect_rc 0 tc upgrade
assert_streq "$(default_checksum)" "$v6"
ostree fsck --repo="$repo" >/dev/null
ok "once the server is repaired the upgrade succeeds"

# Unreachable server.
before=$(deployment_list)
v7=$(commit_os "$TEST_REF" 7.0)
ostree --repo="$repo" config set "remote \"$TEST_REMOTE\".url" "http://127.0.0.1:1/repo"
run_expect_fail "pulling $TEST_REMOTE:$TEST_REF" tc upgrade
assert_file_has_content_literal err.txt "127.0.0.1:1"
assert_streq "$(deployment_list)" "$before"
ostree --repo="$repo" config set "remote \"$TEST_REMOTE\".url" "$HTTP_URL/repo"
ok "unreachable server: error while pulling, nothing deployed"

# Origin naming a remote that does not exist.
orig=$(origin_file "$(deployment_list | sed -n 1p)")
cp "$orig" origin.bak
sed -i 's/^refspec=.*/refspec=nosuch:testos\/x86_64\/stable/' "$orig"
run_expect_fail 'remote "nosuch" not found' tc upgrade
assert_file_has_content_literal err.txt "configured remotes: $TEST_REMOTE"
assert_streq "$(deployment_list)" "$before"
ok "origin with an unknown remote: remote \"nosuch\" not found"

# Origin without a refspec.
printf '[origin]\n' > "$orig"
run_expect_fail "malformed origin" tc upgrade
assert_file_has_content_literal err.txt "no [origin] refspec"
assert_streq "$(deployment_list)" "$before"
json_status > status.json
assert_streq "$(jq -r '.deployments[0].origin' status.json)" null
jq -r '.deployments[0]."origin-error"' status.json > origin-error.txt
assert_file_has_content_literal origin-error.txt "malformed origin"
ok "origin without refspec: malformed origin error; status shows origin-error"

cp origin.bak "$orig"
run_expect_rc 0 tc upgrade
assert_streq "$(default_checksum)" "$v7"
ok "with the origin restored the upgrade goes through"

# Everything printed during an upgrade should be readable text (libostree messages the
# daemon prints itself included).
if grep -n '?' upgrade-v2.txt out.txt >&2; then
  fatal "upgrade output contains '?' (mis-encoded characters)"
fi
ok "upgrade output has no mis-encoded characters"

done_testing
