#!/bin/bash
# compose tree bad inputs: each fails with a message naming the problem, and the output
# repository's ref stays where it was.
. "${TREECTL_SRCDIR:-$(dirname "$0")/..}/tests/libtest.sh"
. "$TREECTL_SRCDIR/tests/libtest-rpm.sh"

setup_gpg
build_base_packages
build_rpm clash-a install 'mkdir -p $RPM_BUILD_ROOT/usr/bin && echo a > $RPM_BUILD_ROOT/usr/bin/clash' files /usr/bin/clash
build_rpm clash-b install 'mkdir -p $RPM_BUILD_ROOT/usr/bin && echo b > $RPM_BUILD_ROOT/usr/bin/clash' files /usr/bin/clash
build_rpm needs-missing requires no-such-capability
build_rpm victim
build_shell_packages
build_rpm failing-script requires sample-busybox post 'echo "boom from post" >&2'$'\n''exit 3'
lua_rpm="$TREECTL_SRCDIR/../shared/testdata/rpms/rpm/luafork-1.0-1.noarch.rpm"
have_lua=
if [ -f "$lua_rpm" ]; then cp "$lua_rpm" "$RPM_REPO_DIR/"; have_lua=1; fi
make_repo
mkdir -p srv
cp -r "$RPM_REPO_DIR" srv/yumrepo
start_httpd "$test_tmpdir/srv"

mkdir c
write_repo_file c/local.repo local "file://$RPM_REPO_DIR"
write_repo_file c/http.repo http-repo "$HTTP_URL/yumrepo"
treefile() { # NAME REPO PACKAGES...
  local name=$1 repo=$2; shift 2
  printf 'ref: test/bad\nrepos: [%s]\npackages: [sample-filesystem, sample-release, sample-kernel%s]\n' \
    "$repo" "$(printf ', %s' "$@")" > "c/$name.yaml"
}
ostree --repo=repo init --mode=archive
treefile good local victim
treectl compose tree --repo=repo --cachedir=cache c/good.yaml >/dev/null
good=$(ostree --repo=repo rev-parse test/bad)
good_objects=$(find repo/objects -type f | sort | md5sum)
# The ref, and every object of the output repo: publishing starts before the build ends,
# inside a transaction a failure aborts.
ref_unchanged() {
  # (and no staged objects left behind in its tmp/)
  assert_streq "$(ls repo/tmp | grep -c treectl-stage || true)" 0
  assert_streq "$(ostree --repo=repo rev-parse test/bad)" "$good"
  assert_streq "$(find repo/objects -type f | sort | md5sum)" "$good_objects"
}
compose() { treectl compose tree --repo=repo --cachedir=cache --force-nocache "$@"; }
ok "a good compose to start from"

treefile notfound local nosuch-package
run_expect_fail 'package "nosuch-package" not found' compose c/notfound.yaml
ref_unchanged
ok "package not found"

treefile unsat local needs-missing
run_expect_fail "cannot resolve the requested packages" compose c/unsat.yaml
assert_file_has_content err.txt "no-such-capability"
ref_unchanged
ok "unsatisfiable dependencies are explained by libsolv, naming the package"

treefile conflict local clash-a clash-b
run_expect_fail "file conflict" compose c/conflict.yaml
assert_file_has_content err.txt "clash"
ref_unchanged
ok "a file conflict between packages"

treefile norepo missing-repo victim
run_expect_fail 'repo "missing-repo" is not defined by any .repo file' compose c/norepo.yaml
ok "a repo no .repo file defines"

write_repo_file c/dead.repo dead http://127.0.0.1:1/repo
treefile dead dead victim
run_expect_fail "dead" compose c/dead.yaml
assert_file_has_content err.txt "repomd.xml"
rm c/dead.repo
ok "an unreachable baseurl"

treefile http http-repo victim
cp -r srv/yumrepo srv/yumrepo.good
primary=$(ls srv/yumrepo/repodata/*-primary.xml.gz)
head -c 100 "$primary" > "$primary.tmp" && mv "$primary.tmp" "$primary"
run_expect_fail "is corrupt or truncated" compose --cachedir=cache-corrupt c/http.yaml
ref_unchanged
rm -rf srv/yumrepo && cp -r srv/yumrepo.good srv/yumrepo
ok "truncated repodata"

cp srv/yumrepo/victim-1.0-1.noarch.rpm victim.save
echo "not the package" > srv/yumrepo/victim-1.0-1.noarch.rpm
run_expect_fail "checksum mismatch" compose --cachedir=cache-mismatch c/http.yaml
ref_unchanged
: > srv/yumrepo/victim-1.0-1.noarch.rpm
run_expect_fail "checksum mismatch" compose --cachedir=cache-mismatch c/http.yaml
head -c 2000 victim.save > srv/yumrepo/victim-1.0-1.noarch.rpm
run_expect_fail "checksum mismatch" compose --cachedir=cache-mismatch c/http.yaml
ref_unchanged
cp victim.save srv/yumrepo/victim-1.0-1.noarch.rpm
# The same for a file:// repository, whose files are checked while they are imported: one
# byte changed near the end of the payload.
cp "$RPM_REPO_DIR/victim-1.0-1.noarch.rpm" victim-local.save
size=$(stat -c %s victim-local.save)
printf 'X' | dd of="$RPM_REPO_DIR/victim-1.0-1.noarch.rpm" bs=1 seek=$((size - 20)) conv=notrunc 2>/dev/null
run_expect_fail "checksum mismatch" compose --cachedir=cache-local c/good.yaml
ref_unchanged
cp victim-local.save "$RPM_REPO_DIR/victim-1.0-1.noarch.rpm"
ok "a downloaded RPM that does not match its checksum (garbage, zero bytes, truncated)"

gpg --armor --export "$TEST_GPG_KEYID" > rpmkey.asc
write_repo_file c/signed.repo signed "file://$RPM_REPO_DIR" 1 "file://$test_tmpdir/rpmkey.asc"
treefile unsigned signed victim
run_expect_fail "signature" compose --cachedir=cache-signed c/unsigned.yaml
ref_unchanged
ok "an unsigned RPM in a gpgcheck=1 repo"

# The same packages signed with rpmsign by the test key: a repo naming another key refuses
# them, one naming the signer composes them.
mkdir signed-rpms
cp "$RPM_REPO_DIR"/sample-filesystem-*.rpm "$RPM_REPO_DIR"/sample-release-*.rpm \
  "$RPM_REPO_DIR"/sample-kernel-*.rpm "$RPM_REPO_DIR"/victim-*.rpm signed-rpms/
rpmsign --addsign --define "_gpg_name $TEST_GPG_KEYID" --define "_gpg_path $GNUPGHOME" \
  --define "__gpg $(command -v gpg)" signed-rpms/*.rpm > rpmsign.log 2>&1
rpm -qp --qf '%{DSAHEADER:pgpsig}%{RSAHEADER:pgpsig}\n' signed-rpms/victim-1.0-1.noarch.rpm > sig.txt
assert_file_has_content sig.txt "Key ID"
make_repo "$test_tmpdir/signed-rpms"
write_repo_file c/wrongkey.repo wrongkey "file://$test_tmpdir/signed-rpms" 1 "file://$test_tmpdir/other-key.asc"
write_repo_file c/rightkey.repo rightkey "file://$test_tmpdir/signed-rpms" 1 "file://$test_tmpdir/rpmkey.asc"
treefile wrongkey wrongkey victim
run_expect_fail "signed with a key that is not in the keyring" compose --cachedir=cache-wrongkey c/wrongkey.yaml
ref_unchanged
treefile rightkey rightkey victim
compose --cachedir=cache-rightkey c/rightkey.yaml > rightkey.out
assert_strneq "$(ostree --repo=repo rev-parse test/bad)" "$good"
good=$(ostree --repo=repo rev-parse test/bad)
good_objects=$(find repo/objects -type f | sort | md5sum)
ok "an RPM signed by a key its repo does not name is refused; signed by the repo's gpgkey it composes"

treefile failscript local failing-script
run_expect_fail "the %post scriptlet of failing-script-1.0-1.noarch failed (exit 3)" compose c/failscript.yaml
assert_file_has_content err.txt "boom from post"
ref_unchanged
ok "a failing scriptlet fails the compose and its output is shown"

if [ -n "$have_lua" ]; then
  treefile lua local luafork
  run_expect_fail "scriptlet is written in Lua, which treectl does not run" compose c/lua.yaml
  ref_unchanged
  compose --skip-lua-scriptlets-of=luafork c/lua.yaml > lua-skip.out
  assert_file_has_content lua-skip.out "Skipping the Lua %pre scriptlet of luafork"
  good=$(ostree --repo=repo rev-parse test/bad)
  good_objects=$(find repo/objects -type f | sort | md5sum)
  ok "a Lua scriptlet is refused unless the package is listed as safe to skip"
else
  echo "# skip Lua scriptlet case: ../shared/testdata is not present"
fi

run_expect_fail "signing with key NOSUCHKEY" compose --gpg-sign=NOSUCHKEY --gpg-homedir="$GNUPGHOME" c/good.yaml
ref_unchanged
ok "a signing key that does not exist"

printf 'ref: x\nrepos: [local]\npackages: [a\n' > c/broken.yaml
run_expect_fail "broken.yaml" compose c/broken.yaml
ok "malformed YAML names the file"

run_expect_fail "not an ostree repository" treectl compose tree --repo=nosuchrepo c/good.yaml
run_expect_fail "needs --repo" treectl compose tree c/good.yaml
ok "a missing or absent --repo"

run_expect_fail "compose tree must run as root" \
  setpriv --reuid=65534 --regid=65534 --clear-groups treectl compose tree --repo=repo c/good.yaml
ok "compose as an unprivileged user is refused up front"

done_testing
