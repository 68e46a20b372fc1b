#!/bin/bash
# compose tree end to end: real RPMs (rpmbuild) in a real rpm-md repository (createrepo_c)
# served over http on 127.0.0.1 and as file://, composed into a signed commit that the
# host path deploys. Checked with stock ostree and rpm.
. "${TREECTL_SRCDIR:-$(dirname "$0")/..}/tests/libtest.sh"
. "$TREECTL_SRCDIR/tests/libtest-rpm.sh"

setup_gpg
build_base_packages 6.1.0-sample 1
build_rpm testpkg-deps requires testpkg-lib version 1.0
build_rpm testpkg-lib version 1.0
build_rpm testpkg-weak recommends testpkg-recommended
build_rpm testpkg-recommended
build_rpm testpkg-etc install 'mkdir -p $RPM_BUILD_ROOT/etc/testpkg $RPM_BUILD_ROOT/var/lib/testpkg $RPM_BUILD_ROOT/opt/testpkg && echo conf > $RPM_BUILD_ROOT/etc/testpkg/a.conf && echo optdata > $RPM_BUILD_ROOT/opt/testpkg/data' \
  files '%config(noreplace) /etc/testpkg/a.conf'$'\n''%dir /var/lib/testpkg'$'\n''/opt/testpkg'
build_shell_packages
build_rpm testpkg-user requires sample-shadow \
  install 'mkdir -p $RPM_BUILD_ROOT/usr/share/testpkg-user && echo secret > $RPM_BUILD_ROOT/usr/share/testpkg-user/secret' \
  files '%attr(0640,testuser,testgroup) /usr/share/testpkg-user/secret' \
  pre 'grep -q "^testgroup:" /etc/group || groupadd -r testgroup'$'\n''grep -q "^testuser:" /etc/passwd || useradd -r -M -d / -g testgroup -s /sbin/nologin testuser' \
  post 'echo post-ran > /etc/testpkg-post-marker'$'\n''echo written-by-post > /usr/share/testpkg-user/from-post' \
  posttrans 'echo posttrans > /etc/testpkg-posttrans-marker'
make_repo
mkdir -p srv
ln -s "$RPM_REPO_DIR" srv/yumrepo
start_httpd "$test_tmpdir/srv"

mkdir compose
write_repo_file compose/test.repo test-repo "$HTTP_URL/yumrepo"
cat > compose/base.yaml <<'YAML'
ref: sample/x86_64/base
repos: [test-repo]
packages: [sample-filesystem, sample-release, sample-kernel]
YAML
cat > compose/sample.yaml <<'YAML'
include: base.yaml
packages:
  - sample-tools testpkg-deps testpkg-weak testpkg-etc testpkg-user
postprocess:
  - |
    echo from-postprocess > /usr/share/postprocess-marker
    rm -f /usr/bin/sample-hello
automatic-version-prefix: "1.0"
mutate-os-release: "1"
machineid-compat: false
tmp-is-dir: true
add-commit-metadata:
  sample.key: sample-value
remove-from-packages:
  - [testpkg-etc, "^/opt/testpkg/data$"]
check-passwd:
  type: previous
check-groups:
  type: previous
YAML
ostree --repo=repo init --mode=archive
treectl compose tree --repo=repo --cachedir=cache --gpg-sign="$TEST_GPG_KEYID" \
  --gpg-homedir="$GNUPGHOME" --write-commitid-to=commitid --write-composejson-to=compose.json \
  compose/sample.yaml > compose.out
c1=$(cat commitid)
assert_streq "$(ostree --repo=repo rev-parse sample/x86_64/base)" "$c1"
ostree --repo=repo fsck >/dev/null
ok "compose tree writes a commit on the ref; fsck passes"

# The root scriptlets and postprocessing see is an overlay over a union checkout kept in the
# cachedir; only its upper layer is committed over the merged package trees. A plain
# checkout of every package (what happens where overlayfs cannot be mounted) must give the
# same tree. tree_listing REPO REV: every path with its mode, owner and checksum; for
# directories only their metadata (their content checksums follow from the rest), and not
# the rpmdb file, in which librpm records installation times.
tree_listing() {
  ostree --repo="$1" ls -R -C "$2" | awk '$1 ~ /^d/ { $5 = "" } { print }' \
    | grep -v ' /usr/lib/sysimage/rpm/rpmdb.sqlite$'
}
assert_file_has_content compose.out "Assembling 12 packages: done (overlay)"
ostree --repo=repo-plain init --mode=archive
TREECTL_COMPOSE_NO_OVERLAY=1 treectl compose tree --repo=repo-plain --cachedir=cache-plain \
  compose/sample.yaml > compose-plain.out
assert_file_has_content compose-plain.out "Assembled a full checkout: TREECTL_COMPOSE_NO_OVERLAY is set"
tree_listing repo "$c1" > tree-overlay.txt
tree_listing repo-plain sample/x86_64/base > tree-plain.txt
diff -u tree-plain.txt tree-overlay.txt
ok "assembling on an overlay gives the tree a plain checkout gives"

ostree --repo=repo show --print-metadata-key=version "$c1" > version.txt
assert_file_has_content version.txt "'1.0'"
ostree --repo=repo show --print-metadata-key=sample.key "$c1" > key.txt
assert_file_has_content key.txt "sample-value"
ostree --repo=repo show --print-metadata-key=treectl.rpmdb.pkglist "$c1" > pkglist.txt
for p in sample-filesystem sample-release sample-kernel sample-tools testpkg-deps testpkg-lib testpkg-weak testpkg-recommended testpkg-etc testpkg-user sample-shadow sample-busybox; do
  assert_file_has_content pkglist.txt "'$p'"
done
ostree --repo=repo show --print-metadata-key=treectl.inputhash "$c1" >/dev/null
ostree --repo=repo show --print-metadata-key=ostree.bootable "$c1" > bootable.txt
assert_file_has_content bootable.txt true
ok "commit metadata: version, add-commit-metadata, pkglist with dependencies and weak deps, bootable"

gpg --armor --export "$TEST_GPG_KEYID" > key.asc
ostree --repo=repo remote add --set=gpg-verify=true --gpg-import=key.asc verifier file:///dev/null
ostree --repo=repo show --gpg-verify-remote=verifier "$c1" > show.txt
assert_file_has_content show.txt "Good signature"
ok "the commit is signed with the given key"

ostree --repo=repo checkout sample/x86_64/base co >/dev/null
assert_has_file co/usr/lib/modules/6.1.0-sample/vmlinuz
assert_has_file co/usr/etc/testpkg/a.conf
assert_not_has_file co/usr/lib/opt/testpkg/data
assert_file_has_content co/usr/lib/tmpfiles.d/pkg-testpkg-etc.conf "/var/lib/testpkg"
assert_not_has_file co/etc
assert_has_file co/usr/lib/os-release
assert_file_has_content co/usr/lib/os-release 'PRETTY_NAME="Sample OS 1.0"'
assert_file_has_content co/usr/lib/os-release '^ID=sample'
[ -z "$(ls -A co/var)" ] || fatal "/var is not empty in the commit"
assert_has_dir co/tmp
assert_not_has_file co/usr/etc/machine-id
ostree --repo=repo ls "$c1" /usr/lib/sysimage/rpm > rpmdb-files.txt
assert_not_file_has_content rpmdb-files.txt 'rpm.lock\|sqlite-shm\|sqlite-wal'
rpm -qa --root="$test_tmpdir/co" --dbpath=/usr/lib/sysimage/rpm | sort > rpmqa.txt
assert_streq "$(wc -l < rpmqa.txt)" 12
assert_file_has_content rpmqa.txt '^testpkg-lib-1.0-1.noarch$'
# What an install records beside the header: the install time and each file's state.
rpm -q --root="$test_tmpdir/co" --dbpath=/usr/lib/sysimage/rpm \
  --qf '%{INSTALLTIME} %{INSTALLTID}\n[%{FILESTATES:fstate} %{FILENAMES}\n]' testpkg-etc > states.txt
read -r itime itid < states.txt
[ "$itime" -gt 1700000000 ] && [ "$itid" -gt 1700000000 ] || fatal "no install time: $itime $itid"
assert_file_has_content states.txt '^normal /etc/testpkg/a.conf$'
assert_not_file_has_content states.txt '^not installed'
# Fedora's rpm defaults to this dbpath; Debian's (~/.rpmdb) needs it spelled out.
assert_has_dir co/usr/lib/sysimage/rpm
assert_streq "$(readlink co/usr/share/rpm)" ../lib/sysimage/rpm
ok "the tree: kernel in usr/lib/modules, /etc in usr/etc, empty /var, os-release, rpmdb read by rpm -qa --root"

assert_file_has_content co/usr/etc/passwd '^testuser:'
assert_file_has_content co/usr/etc/group '^testgroup:'
uid=$(awk -F: '$1 == "testuser" {print $3}' co/usr/etc/passwd)
ostree --repo=repo ls sample/x86_64/base /usr/share/testpkg-user/secret > secret.txt
assert_file_has_content secret.txt "$uid"
assert_file_has_content co/usr/etc/testpkg-post-marker post-ran
assert_file_has_content co/usr/etc/testpkg-posttrans-marker posttrans
assert_file_has_content co/usr/share/testpkg-user/from-post written-by-post
assert_file_has_content co/usr/share/postprocess-marker from-postprocess
assert_not_has_file co/usr/bin/sample-hello
ostree --repo=cache/repo fsck >/dev/null
ok "scriptlets ran in the tree (useradd, %post, %posttrans), postprocess ran, the cache is intact"

jq -e '.commit and .inputhash and .packages == 12' compose.json >/dev/null
ok "compose JSON names commit, input hash and package count"

run_expect_rc 77 treectl compose tree --repo=repo --cachedir=cache compose/sample.yaml
assert_file_has_content out.txt "No changes"
assert_streq "$(ostree --repo=repo rev-parse sample/x86_64/base)" "$c1"
ok "an unchanged recompose exits 77 and writes nothing"

build_rpm testpkg-lib version 1.1
rm -f "$RPM_REPO_DIR/testpkg-lib-1.0-1.noarch.rpm"
make_repo
# A download that stopped halfway is resumed: only the rest is asked for.
rpm_file="$RPM_REPO_DIR/testpkg-lib-1.1-1.noarch.rpm"
half=$(( $(stat -c %s "$rpm_file") / 2 ))
head -c "$half" "$rpm_file" > cache/packages/testpkg-lib-1.1-1.noarch.rpm.part
treectl compose tree --repo=repo --cachedir=cache --write-composejson-to=compose2.json \
  --gpg-sign="$TEST_GPG_KEYID" --gpg-homedir="$GNUPGHOME" --static-delta compose/sample.yaml > compose2.out
c2=$(ostree --repo=repo rev-parse sample/x86_64/base)
assert_strneq "$c2" "$c1"
assert_streq "$(ostree --repo=repo rev-parse "$c2^")" "$c1"
ostree --repo=repo static-delta list > deltas.txt
assert_file_has_content deltas.txt "$c1-$c2"
assert_streq "$(jq -r '."cache-hits"' compose2.json)" 11
assert_file_has_content compose2.out "1 imported"
assert_file_has_content httpd.log "range bytes=$half- of testpkg-lib-1.1-1.noarch.rpm"
cmp cache/packages/testpkg-lib-1.1-1.noarch.rpm "$rpm_file"
assert_not_has_file cache/packages/testpkg-lib-1.1-1.noarch.rpm.part
ostree --repo=repo show --print-metadata-key=version "$c2" > version.txt
assert_file_has_content version.txt "'1.0.1'"
rm -rf co2
ostree --repo=repo checkout sample/x86_64/base co2 >/dev/null
assert_streq "$(grep '^testuser:' co2/usr/etc/passwd)" "$(grep '^testuser:' co/usr/etc/passwd)"
# The rpmdb is the previous one with the old testpkg-lib erased and the new one added.
rpm -qa --root="$test_tmpdir/co2" --dbpath=/usr/lib/sysimage/rpm | sort > rpmqa2.txt
assert_streq "$(wc -l < rpmqa2.txt)" 12
assert_file_has_content rpmqa2.txt '^testpkg-lib-1.1-1.noarch$'
assert_not_file_has_content rpmqa2.txt '^testpkg-lib-1.0-1'
assert_streq "$(grep -v testpkg-lib rpmqa2.txt)" "$(grep -v testpkg-lib rpmqa.txt)"
rpm -q --root="$test_tmpdir/co2" --dbpath=/usr/lib/sysimage/rpm -f /usr/bin/testpkg-lib > owner.txt
assert_file_has_content owner.txt '^testpkg-lib-1.1-1.noarch$'
# Only what differs from the previous commit was looked for and copied: the output repo
# still holds everything the new commit needs.
ostree --repo=repo fsck >/dev/null
ok "a one-package change resumes its half-done download and imports exactly one package; version, parent, uids and the rpmdb follow"

# The cached union checkout was brought to the new package set by what changed.
TREECTL_COMPOSE_NO_OVERLAY=1 treectl compose tree --repo=repo-plain --cachedir=cache-plain \
  compose/sample.yaml > compose-plain2.out
tree_listing repo "$c2" > tree-overlay.txt
tree_listing repo-plain sample/x86_64/base > tree-plain.txt
diff -u tree-plain.txt tree-overlay.txt
assert_file_has_content cache/union/root/usr/bin/testpkg-lib "testpkg-lib-1.1-1"
ostree --repo=cache/repo fsck >/dev/null
ok "after a one-package change the overlay still gives the plain checkout's tree"

# A partial download that cannot be the start of the file (damaged; or longer than the file,
# which the server refuses to resume) is thrown away and downloaded again, in the same run.
mkdir -p cache-garbage/packages
head -c $(( half + 7 )) /dev/urandom > cache-garbage/packages/testpkg-lib-1.1-1.noarch.rpm.part
other=$(cd "$RPM_REPO_DIR" && ls sample-release-*.rpm)
head -c $(( $(stat -c %s "$RPM_REPO_DIR/$other") + 100 )) /dev/urandom > "cache-garbage/packages/$other.part"
ostree --repo=repo-garbage init --mode=archive
treectl compose tree --repo=repo-garbage --cachedir=cache-garbage compose/sample.yaml > garbage.out
assert_file_has_content garbage.out "Resuming the partial download .*testpkg-lib-1.1-1.noarch.rpm.part failed (checksum mismatch"
assert_file_has_content garbage.out "Resuming the partial download .*$other.part failed (.*HTTP 416); downloading it again"
assert_file_has_content httpd.log "range bytes=$(( half + 7 ))- of testpkg-lib-1.1-1.noarch.rpm"
assert_file_has_content httpd.log "range bytes=.*- of $other: past the end"
cmp cache-garbage/packages/testpkg-lib-1.1-1.noarch.rpm "$rpm_file"
cmp "cache-garbage/packages/$other" "$RPM_REPO_DIR/$other"
assert_not_has_file cache-garbage/packages/testpkg-lib-1.1-1.noarch.rpm.part
assert_not_has_file "cache-garbage/packages/$other.part"
ostree --repo=repo-garbage fsck >/dev/null
assert_file_has_content garbage.out "Packages: 12, 0 from the cache, 12 imported"
ok "a damaged or overlong partial download is downloaded again from the start"

# A union checkout that is not known to match (its stamp is gone, as after a compose that
# stopped while changing it) is checked out again.
rm cache/union/commit
echo stray > cache/union/root/usr/share/stray-file
treectl compose tree --repo=repo-plain --cachedir=cache --force-nocache compose/sample.yaml > compose-rebuild.out
assert_file_has_content compose-rebuild.out "done (overlay)"
assert_not_has_file cache/union/root/usr/share/stray-file
assert_has_file cache/union/commit
assert_not_file_has_content <(ostree --repo=repo-plain ls -R sample/x86_64/base) stray-file
ok "a union checkout without its stamp is checked out afresh"

# Two composes sharing a cachedir: the one that finds the union checkout in use assembles a
# plain checkout instead, and still composes.
flock cache/union/lock sleep 60 &
holder=$!
wait_for 10 sh -c '! flock -n cache/union/lock true'
treectl compose tree --repo=repo-plain --cachedir=cache --force-nocache compose/sample.yaml > compose-locked.out
kill "$holder" 2>/dev/null || true
wait "$holder" 2>/dev/null || true
assert_file_has_content compose-locked.out "Assembled a full checkout: another compose is using .*cache/union"
ostree --repo=repo-plain fsck >/dev/null
ok "a compose that finds the union checkout in use assembles a plain checkout"

# A package rebuilt under the same NEVRA is another package: its rpmdb entry is replaced.
build_rpm testpkg-lib version 1.1 \
  install 'mkdir -p $RPM_BUILD_ROOT/usr/bin && printf "#!/bin/sh\necho rebuilt\n" > $RPM_BUILD_ROOT/usr/bin/testpkg-lib && chmod 755 $RPM_BUILD_ROOT/usr/bin/testpkg-lib' \
  files /usr/bin/testpkg-lib
make_repo
treectl compose tree --repo=repo-plain --cachedir=cache compose/sample.yaml > compose-rebuilt.out
assert_file_has_content compose-rebuilt.out "1 imported"
rm -rf co3
ostree --repo=repo-plain checkout sample/x86_64/base co3 >/dev/null
assert_file_has_content co3/usr/bin/testpkg-lib rebuilt
rpm -q --root="$test_tmpdir/co3" --dbpath=/usr/lib/sysimage/rpm --qf '[%{FILEDIGESTS}\n]' \
  testpkg-lib > digests.txt
assert_streq "$(cat digests.txt)" "$(sha256sum < co3/usr/bin/testpkg-lib | cut -d' ' -f1)"
assert_streq "$(rpm -qa --root="$test_tmpdir/co3" --dbpath=/usr/lib/sysimage/rpm | wc -l)" 12
ok "a package rebuilt under the same NEVRA replaces its rpmdb entry"


sed '/^check-passwd:/,$d' compose/sample.yaml > compose/moved-uid.yaml
printf 'check-passwd:\n  type: data\n  entries:\n    testuser: 4242\n' >> compose/moved-uid.yaml
run_expect_fail 'check-passwd: user "testuser" changed id from 4242 to' \
  treectl compose tree --repo=repo --cachedir=cache --force-nocache compose/moved-uid.yaml
assert_streq "$(ostree --repo=repo rev-parse sample/x86_64/base)" "$c2"
ok "check-passwd refuses a compose where a user's id moved; the ref stays"

# Publishing compares the new tree with the previous commit only when the output repo
# holds all of that commit. An interrupted pull leaves a commit partial: then every object
# is checked, and one the repo lost is written again.
victim=$(ostree --repo=repo ls -C sample/x86_64/base /usr/lib/modules/6.1.0-sample/vmlinuz | awk '{print $5}')
assert_strneq "$victim" ""
rm "repo/objects/${victim:0:2}/${victim:2}.filez"
touch "repo/state/$c2.commitpartial"
treectl compose tree --repo=repo --cachedir=cache --force-nocache --gpg-sign="$TEST_GPG_KEYID" \
  --gpg-homedir="$GNUPGHOME" compose/sample.yaml > compose3.out
assert_has_file "repo/objects/${victim:0:2}/${victim:2}.filez"
ostree --repo=repo fsck >/dev/null
ok "a partial previous commit makes publishing check every object; a lost one is written again"

# A warm package cache composing into a new, empty output repo copies every package file.
ostree --repo=repo-fresh init --mode=archive
treectl compose tree --repo=repo-fresh --cachedir=cache compose/sample.yaml > compose-fresh.out
assert_file_has_content compose-fresh.out "0 imported"
# fsck reads every object the commit reaches.
ostree --repo=repo-fresh fsck >/dev/null
ok "a compose from a warm cache into an empty repo publishes every object"

# The package cache is written without per-object fsync; a marker left by a compose that
# never reached its final sync makes the next one start the cache afresh.
assert_not_has_file cache/treectl-unsynced
touch cache/treectl-unsynced
treectl compose tree --repo=repo --cachedir=cache --dry-run compose/sample.yaml > dry.out
assert_file_has_content dry.out "was being written when a compose stopped; starting it afresh"
assert_not_has_file cache/treectl-unsynced
assert_streq "$(ostree --repo=cache/repo refs | grep -c '^treectl/pkg/' || true)" 0
ok "an unsynced package cache (a compose that crashed) is started afresh"

# documentation: false leaves %doc files out of the tree, and the rpmdb records them as not
# installed (as rpm --excludedocs does) and the package's other files as normal.
build_rpm testpkg-doc install 'mkdir -p $RPM_BUILD_ROOT/usr/share/doc/testpkg-doc $RPM_BUILD_ROOT/usr/bin && echo readme > $RPM_BUILD_ROOT/usr/share/doc/testpkg-doc/README && echo "#!/bin/sh" > $RPM_BUILD_ROOT/usr/bin/testpkg-doc' \
  files '%doc /usr/share/doc/testpkg-doc/README'$'\n''/usr/bin/testpkg-doc'
make_repo
cat > compose/nodocs.yaml <<'YAML'
include: base.yaml
ref: sample/x86_64/nodocs
packages: [testpkg-doc]
documentation: false
YAML
ostree --repo=repo-nodocs init --mode=archive
treectl compose tree --repo=repo-nodocs --cachedir=cache-nodocs compose/nodocs.yaml >/dev/null
ostree --repo=repo-nodocs checkout sample/x86_64/nodocs co-nodocs >/dev/null
assert_has_file co-nodocs/usr/bin/testpkg-doc
assert_not_has_file co-nodocs/usr/share/doc/testpkg-doc/README
rpm -q --root="$test_tmpdir/co-nodocs" --dbpath=/usr/lib/sysimage/rpm \
  --qf '[%{FILESTATES:fstate} %{FILENAMES}\n]' testpkg-doc > doc-states.txt
assert_file_has_content doc-states.txt '^not installed /usr/share/doc/testpkg-doc/README$'
assert_file_has_content doc-states.txt '^normal /usr/bin/testpkg-doc$'
ok "documentation: false leaves %doc out; the rpmdb lists those files as not installed"

# trig_treefile NAME REF PACKAGES: compose/NAME.yaml, the base plus PACKAGES ("a, b").
trig_treefile() {
  printf 'include: base.yaml\nref: %s\npackages: [%s]\n' "$2" "$3" > "compose/$1.yaml"
}

# %transfiletriggerin runs after every %posttrans, highest priority first, only when a prefix
# matches an installed file, with the matching files on stdin and 0 as $1; "%post -p PROG"
# without a body runs PROG.
build_rpm trig-files-a install "mkdir -p \$RPM_BUILD_ROOT/usr/share/trigtest && echo 1 > \$RPM_BUILD_ROOT/usr/share/trigtest/a1 && echo 2 > \$RPM_BUILD_ROOT/usr/share/trigtest/a2" \
  files /usr/share/trigtest/a1 files /usr/share/trigtest/a2
build_rpm trig-files-b install "mkdir -p \$RPM_BUILD_ROOT/usr/share/trigtest/b && echo 3 > \$RPM_BUILD_ROOT/usr/share/trigtest/b/b1" \
  files /usr/share/trigtest/b/b1
build_rpm trig-owner posttrans "echo posttrans >> /usr/share/trig-log" \
  install "mkdir -p \$RPM_BUILD_ROOT/usr/bin && printf '#!/bin/sh\necho \"pmark \$1\" > /usr/share/pmark.txt\n' > \$RPM_BUILD_ROOT/usr/bin/pmark && chmod 755 \$RPM_BUILD_ROOT/usr/bin/pmark" \
  files /usr/bin/pmark \
  extra "%post -p /usr/bin/pmark" \
  extra "%transfiletriggerin -P 10 -- /usr/share/trigtest" \
  extra 'echo "low $1" >> /usr/share/trig-log; cat > /usr/share/trig-low-input' \
  extra "%transfiletriggerin -P 2000000 -- /usr/share/trigtest/b /usr/share/trigtest/a1" \
  extra 'echo "high $1" >> /usr/share/trig-log; cat > /usr/share/trig-high-input' \
  extra "%transfiletriggerin -- /usr/share/nomatch" \
  extra 'echo nomatch >> /usr/share/trig-log'
make_repo
trig_treefile trig sample/x86_64/trig 'trig-owner, trig-files-a, trig-files-b'
ostree --repo=repo-trig init --mode=archive
treectl compose tree --repo=repo-trig --cachedir=cache-trig compose/trig.yaml > trig.out
ostree --repo=repo-trig cat sample/x86_64/trig /usr/share/trig-log > trig-log.txt
assert_streq "$(cat trig-log.txt)" "posttrans"$'\n'"high 0"$'\n'"low 0"
ostree --repo=repo-trig cat sample/x86_64/trig /usr/share/trig-high-input > high.txt
# (prefix by prefix, in the header's order: rpmbuild sorts a trigger's prefixes)
assert_streq "$(cat high.txt)" "/usr/share/trigtest/a1"$'\n'"/usr/share/trigtest/b/b1"
ostree --repo=repo-trig cat sample/x86_64/trig /usr/share/trig-low-input | sort > low.txt
assert_streq "$(cat low.txt)" "/usr/share/trigtest/a1"$'\n'"/usr/share/trigtest/a2"$'\n'"/usr/share/trigtest/b/b1"
ostree --repo=repo-trig cat sample/x86_64/trig /usr/share/pmark.txt > pmark.txt
assert_streq "$(cat pmark.txt)" "pmark 1"
ok "%transfiletriggerin runs after %posttrans by priority with the matching files; %post -p PROG runs PROG"

# A failing trigger fails the compose, naming it, with its output.
build_rpm trig-fail extra "%transfiletriggerin -- /usr/share/trigtest" extra 'echo trigger-broke; exit 4'
make_repo
trig_treefile trigfail sample/x86_64/trig 'trig-fail, trig-files-a'
trig_commit=$(ostree --repo=repo-trig rev-parse sample/x86_64/trig)
run_expect_fail "the %transfiletriggerin scriptlet of trig-fail-1.0-1.noarch failed (exit 4)" \
  treectl compose tree --repo=repo-trig --cachedir=cache-trig compose/trigfail.yaml
assert_file_has_content err.txt "trigger-broke"
assert_streq "$(ostree --repo=repo-trig rev-parse sample/x86_64/trig)" "$trig_commit"
ok "a failing %transfiletriggerin fails the compose with its output"

# A Lua trigger is refused, naming package and kind, unless the package may be skipped.
build_rpm trig-lua extra "%transfiletriggerin -p <lua> -- /usr/share/trigtest" extra 'print("lua")'
make_repo
trig_treefile triglua sample/x86_64/trig 'trig-lua, trig-files-a'
run_expect_fail "trig-lua-1.0-1.noarch: the %transfiletriggerin scriptlet is written in Lua, which treectl does not run" \
  treectl compose tree --repo=repo-trig --cachedir=cache-trig compose/triglua.yaml
assert_streq "$(ostree --repo=repo-trig rev-parse sample/x86_64/trig)" "$trig_commit"
treectl compose tree --repo=repo-trig --cachedir=cache-trig --skip-lua-scriptlets-of=trig-lua \
  compose/triglua.yaml > triglua.out
assert_file_has_content triglua.out "Skipping the Lua %transfiletriggerin scriptlet of trig-lua-1.0-1.noarch"
ok "a Lua %transfiletriggerin is refused unless the package is listed as safe to skip"

# With documentation: false, %doc files are not installed: they match no trigger.
build_rpm trig-doc install "mkdir -p \$RPM_BUILD_ROOT/usr/share/doc/trig-doc \$RPM_BUILD_ROOT/usr/share/trigtest && echo d > \$RPM_BUILD_ROOT/usr/share/doc/trig-doc/README && echo c > \$RPM_BUILD_ROOT/usr/share/trigtest/c1" \
  files '%doc /usr/share/doc/trig-doc/README' files /usr/share/trigtest/c1 \
  extra "%transfiletriggerin -- /usr/share/doc/trig-doc /usr/share/trigtest" \
  extra 'cat > /usr/share/trig-doc-input'
make_repo
trig_treefile trigdoc sample/x86_64/trigdoc 'trig-doc'
treectl compose tree --repo=repo-trig --cachedir=cache-trig compose/trigdoc.yaml >/dev/null
assert_streq "$(ostree --repo=repo-trig cat sample/x86_64/trigdoc /usr/share/trig-doc-input)" \
  "/usr/share/doc/trig-doc/README"$'\n'"/usr/share/trigtest/c1"
printf 'documentation: false\n' >> compose/trigdoc.yaml
treectl compose tree --repo=repo-trig --cachedir=cache-trig compose/trigdoc.yaml >/dev/null
assert_streq "$(ostree --repo=repo-trig cat sample/x86_64/trigdoc /usr/share/trig-doc-input)" \
  "/usr/share/trigtest/c1"
ok "with documentation: false, %doc files do not match a %transfiletriggerin"

# The composed commit deploys with the host path.
SYSROOT="$test_tmpdir/sysroot"
mkdir "$SYSROOT"
ln -s "$test_tmpdir/repo" srv/repo
treectl --sysroot "$SYSROOT" init --os sample --url "$HTTP_URL/repo" --gpg-key key.asc \
  sample:sample/x86_64/base > init.out
tc status > status.txt
assert_file_has_content status.txt "Version: 1.0.2"
ok "the composed commit deploys with treectl init and status shows its version"

done_testing
