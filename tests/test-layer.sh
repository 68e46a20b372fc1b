#!/bin/bash
# Package layering through treectld on a treectl-composed base: install with dependencies,
# uninstall back to the exact base commit, layering across upgrades, the rules that keep
# the base intact, and every bad input with its message. Real RPMs, real rpm-md repos,
# real sysroot; results checked with stock ostree and rpm.
. "${TREECTL_SRCDIR:-$(dirname "$0")/..}/tests/libtest.sh"
. "$TREECTL_SRCDIR/tests/libtest-rpm.sh"

setup_gpg
# The base OS, composed and served over http.
build_base_packages 6.1.0-sample 1
build_shell_packages
make_repo
mkdir -p srv compose
ln -s "$RPM_REPO_DIR" srv/yumrepo
start_httpd "$test_tmpdir/srv"
write_repo_file compose/test.repo test-repo "$HTTP_URL/yumrepo"
cat > compose/base.yaml <<'YAML'
ref: sample/x86_64/base
repos: [test-repo]
packages: [sample-filesystem, sample-release, sample-kernel, sample-tools, sample-shadow]
automatic-version-prefix: "1"
YAML
ostree --repo=repo init --mode=archive
compose_base() {
  treectl compose tree --repo=repo --cachedir=cache --gpg-sign="$TEST_GPG_KEYID" \
    --gpg-homedir="$GNUPGHOME" --write-commitid-to=commitid "$@" compose/base.yaml > compose.out
  cat commitid
}
base1=$(compose_base)
ln -s "$test_tmpdir/repo" srv/repo
SYSROOT="$test_tmpdir/sysroot"
mkdir "$SYSROOT"
treectl --sysroot "$SYSROOT" init --os sample --url "$HTTP_URL/repo" --gpg-key test-key.asc \
  sample:sample/x86_64/base > init.out
OS_NAME=sample

# The packages to layer live in a repository of their own, named by the host's
# /etc/yum.repos.d (carried to every new deployment by the /etc merge).
BASE_REPO=$RPM_REPO_DIR
LAYER_REPO="$test_tmpdir/layer-rpms"
RPM_REPO_DIR=$LAYER_REPO
build_rpm layer-app requires layer-lib
build_rpm layer-lib
build_rpm layer-user requires sample-shadow \
  install 'mkdir -p $RPM_BUILD_ROOT/usr/share/layer-user && echo mine > $RPM_BUILD_ROOT/usr/share/layer-user/owned' \
  files '%attr(0640,layeruser,layeruser) /usr/share/layer-user/owned' \
  pre 'grep -q "^layeruser:" /etc/group || groupadd -r layeruser'$'\n''grep -q "^layeruser:" /etc/passwd || useradd -r -M -d / -g layeruser -s /sbin/nologin layeruser'
build_rpm layer-opt install 'mkdir -p $RPM_BUILD_ROOT/opt/layer-opt && echo optdata > $RPM_BUILD_ROOT/opt/layer-opt/data' \
  files '/opt/layer-opt'
build_rpm layer-conflict conflicts sample-tools
build_rpm sample-tools version 2.0 requires sample-filesystem
build_rpm layer-newtools requires 'sample-tools >= 2.0'
build_rpm layer-broken requires no-such-capability
build_rpm layer-failscript post 'echo boom from layered post'$'\n''exit 3'
build_rpm layer-clash install 'mkdir -p $RPM_BUILD_ROOT/usr/bin && echo different > $RPM_BUILD_ROOT/usr/bin/sample-hello' \
  files '/usr/bin/sample-hello'
make_repo "$LAYER_REPO"
mkdir -p "$(default_deploy_dir)/etc/yum.repos.d"
write_repo_file "$(default_deploy_dir)/etc/yum.repos.d/layer.repo" layer "file://$LAYER_REPO"

repo_refs() { ostree --repo="$SYSROOT/ostree/repo" refs | sort; }

tc status > status.txt
assert_not_file_has_content status.txt "LayeredPackages"
tc install --dry-run layer-app > dry.out
assert_file_has_content dry.out "layer-app-1.0-1.noarch"
assert_file_has_content dry.out "layer-lib-1.0-1.noarch"
assert_streq "$(deployment_count)" "1"
ok "install --dry-run lists the packages with their dependencies and deploys nothing"

tc install layer-app > install.out
layered1=$(default_checksum)
assert_strneq "$layered1" "$base1"
assert_streq "$(deployment_count)" "2"
d=$(default_deploy_dir)
assert_has_file "$d/usr/bin/layer-app"
assert_has_file "$d/usr/bin/layer-lib"
assert_has_file "$d/usr/bin/sample-hello"
# rpm writes next to the database it reads: query a copy, never the hardlinked deployment.
rm -rf dbcopy && cp -a "$d/usr/lib/sysimage/rpm" dbcopy
rpm -qa --dbpath "$test_tmpdir/dbcopy" --qf '%{NAME}\n' | sort > rpmqa.txt
assert_streq "$(tr '\n' ' ' < rpmqa.txt)" \
  "layer-app layer-lib sample-busybox sample-filesystem sample-kernel sample-release sample-shadow sample-tools "
ostree --repo="$SYSROOT/ostree/repo" show "$layered1" > show.txt
assert_streq "$(ostree --repo="$SYSROOT/ostree/repo" show --print-metadata-key=treectl.clientlayer "$layered1")" "true"
assert_file_has_content show.txt "Parent: *$base1"
assert_streq "$(ostree --repo="$SYSROOT/ostree/repo" rev-parse treectl/base/0)" "$base1"
repo_refs > refs.txt
assert_file_has_content refs.txt '^treectl/pkg/layer-app/'
assert_file_has_content refs.txt '^treectl/pkg/layer-lib/'
origin=$(origin_file "$(deployment_list | sed -n 1p)")
assert_file_has_content "$origin" '^baserefspec=sample:sample/x86_64/base$'
assert_file_has_content "$origin" '^requested=layer-app;$'
ostree fsck --repo="$SYSROOT/ostree/repo" >/dev/null
# No scriptlets: the layer is the base tree with the package trees merged in, nothing else.
ostree --repo="$SYSROOT/ostree/repo" diff "$base1" "$layered1" | sort > layer-diff.txt
assert_streq "$(tr '\n' ' ' < layer-diff.txt)" \
  "A    /usr/bin/layer-app A    /usr/bin/layer-lib M    /usr/lib/sysimage/rpm/rpmdb.sqlite "
ok "install layers a package and its dependency: files, rpmdb, parent, refs and origin"

tc status > status.txt
assert_file_has_content status.txt "LayeredPackages: layer-app"
assert_file_has_content status.txt "BaseCommit: ${base1:0:12}"
# The layer is local; the signature shown is the base's.
assert_file_has_content status.txt "GPGSignature: valid signature by"
assert_streq "$(json_dep 0 '"requested-packages"[0]')" "layer-app"
assert_streq "$(json_dep 0 '"base-checksum"')" "$base1"
assert_streq "$(json_dep 1 '"base-checksum"')" "null"
ok "status shows the layered packages and the base commit (text and JSON)"

treectl db diff --repo="$SYSROOT/ostree/repo" "$base1" "$layered1" > diff.txt
assert_file_has_content diff.txt "layer-app-1.0-1.noarch"
assert_file_has_content diff.txt "layer-lib-1.0-1.noarch"
assert_not_file_has_content diff.txt "sample-tools"
treectl db diff --repo="$SYSROOT/ostree/repo" --json "$base1" "$layered1" > diff.json
assert_streq "$(jq -r '.added | map(.name) | join(",")' diff.json)" "layer-app,layer-lib"
assert_streq "$(jq -r '.removed | length' diff.json)" "0"
ok "db diff of base and layer lists exactly the added packages (text and JSON)"

run_expect_fail 'package "layer-app" is already requested' tc install layer-app
run_expect_rc 77 tc install --idempotent layer-app
assert_streq "$(default_checksum)" "$layered1"
ok "installing a requested package again: an error, or nothing to do with --idempotent"

tc install layer-user layer-opt > install2.out
d=$(default_deploy_dir)
grep '^layeruser:' "$d/etc/passwd" > pw.txt
uid=$(cut -d: -f3 pw.txt)
assert_file_has_content "$d/etc/group" '^layeruser:'
assert_streq "$(stat -c %u "$d/usr/share/layer-user/owned")" "$uid"
assert_has_file "$d/usr/lib/opt/layer-opt/data"
grep -rh 'layer-opt' "$d/usr/lib/tmpfiles.d/" > tmpfiles.txt
assert_file_has_content tmpfiles.txt '/var/opt/layer-opt'
assert_file_has_content "$(origin_file "$(deployment_list | sed -n 1p)")" '^requested=layer-app;layer-opt;layer-user;$'
ok "a layered package's useradd reaches the deployed /etc/passwd; /opt payloads work"

# Bad input: each fails naming the problem and deploys nothing.
before=$(default_checksum)
n_before=$(deployment_count)
check_unchanged() {
  assert_streq "$(default_checksum)" "$before"
  assert_streq "$(deployment_count)" "$n_before"
}
run_expect_fail 'package "no-such-package" not found' tc install no-such-package
check_unchanged
run_expect_fail 'no-such-capability' tc install layer-broken
assert_file_has_content err.txt 'cannot resolve the requested packages'
check_unchanged
run_expect_fail 'layer-conflict' tc install layer-conflict
assert_file_has_content err.txt 'sample-tools'
check_unchanged
run_expect_fail 'layered package sample-tools-2.0-1.noarch would replace base package sample-tools-1.0-1.noarch' \
  tc install layer-newtools
check_unchanged
run_expect_fail '"sample-tools" is already provided by the base package sample-tools-1.0-1.noarch' \
  tc install sample-tools
check_unchanged
run_expect_fail 'the %post scriptlet of layer-failscript-1.0-1.noarch failed (exit 3)' \
  tc install layer-failscript
assert_file_has_content err.txt 'boom from layered post'
check_unchanged
run_expect_fail 'file conflict while adding package layer-clash-1.0-1.noarch' tc install layer-clash
check_unchanged
run_expect_fail 'package "layer-lib" is not layered (layered packages: layer-app, layer-opt, layer-user)' \
  tc uninstall layer-lib
check_unchanged
run_expect_fail 'uninstall needs at least one PACKAGE, or --all' tc uninstall
run_expect_fail 'install needs at least one PACKAGE' tc install
ok "unknown, unsatisfiable, conflicting, base-replacing, in-base, failing-scriptlet, clashing and not-layered packages are refused by name; nothing is deployed"

tc uninstall layer-user layer-opt > uninstall.out
d=$(default_deploy_dir)
assert_not_has_file "$d/usr/lib/opt/layer-opt/data"
assert_has_file "$d/usr/bin/layer-app"
assert_file_has_content "$(origin_file "$(deployment_list | sed -n 1p)")" '^requested=layer-app;$'
tc uninstall --all > uninstall-all.out
assert_streq "$(default_checksum)" "$base1"
origin=$(origin_file "$(deployment_list | sed -n 1p)")
assert_file_has_content "$origin" '^refspec=sample:sample/x86_64/base$'
assert_not_file_has_content "$origin" 'requested'
run_expect_rc 77 tc uninstall --all
ok "uninstall removes packages; uninstall --all deploys the exact base commit again"

tc cleanup --rollback > cleanup.out
repo_refs > refs.txt
assert_not_file_has_content refs.txt '^treectl/'
ostree fsck --repo="$SYSROOT/ostree/repo" >/dev/null
ok "cleanup drops the package cache and base refs nothing uses"

# Local RPM files: the client opens them and passes descriptors; the daemon verifies them
# and keeps them in the package cache.
LOCAL_DIR="$test_tmpdir/local-rpms"
RPM_REPO_DIR=$LOCAL_DIR
build_rpm layer-local requires layer-lib
RPM_REPO_DIR=$BASE_REPO
cp "$LOCAL_DIR/layer-local-1.0-1.noarch.rpm" ./layer-local.rpm
tc install ./layer-local.rpm > local.out
rm layer-local.rpm
d=$(default_deploy_dir)
assert_has_file "$d/usr/bin/layer-local"
assert_has_file "$d/usr/bin/layer-lib"
assert_file_has_content "$(origin_file "$(deployment_list | sed -n 1p)")" '^requested-local=layer-local-1.0-1.noarch;$'
tc status > status.txt
assert_file_has_content status.txt "LocalPackages: layer-local-1.0-1.noarch"
assert_streq "$(json_dep 0 '"requested-local-packages"[0]')" "layer-local-1.0-1.noarch"
ok "install of a local .rpm: passed as a descriptor, dependencies from the repos, recorded by NEVRA"

before=$(default_checksum)
n_before=$(deployment_count)
: > empty.rpm
run_expect_fail "importing ./empty.rpm: empty file (0 bytes), not an RPM package" tc install ./empty.rpm
echo "this is not a package" > text.rpm
run_expect_fail "importing ./text.rpm: not an RPM package" tc install ./text.rpm
run_expect_fail "./missing.rpm: No such file or directory" tc install ./missing.rpm
run_expect_fail "$test_tmpdir: not a regular file" tc install "$test_tmpdir"
# A repo that needs signatures makes local packages need one too.
write_repo_file "$(default_deploy_dir)/etc/yum.repos.d/signed.repo" signed "file://$LAYER_REPO" 1 \
  "file://$test_tmpdir/test-key.asc"
RPM_REPO_DIR=$LOCAL_DIR
build_rpm layer-local2
RPM_REPO_DIR=$BASE_REPO
run_expect_fail "importing $LOCAL_DIR/layer-local2-1.0-1.noarch.rpm: package is not signed, and a signature is required" \
  tc install "$LOCAL_DIR/layer-local2-1.0-1.noarch.rpm"
rm "$(default_deploy_dir)/etc/yum.repos.d/signed.repo"
check_unchanged
ok "a zero-byte, non-RPM, missing or unsigned (where a repo has gpgcheck=1) local file is refused by name"

tc uninstall layer-local > uninstall-local.out
assert_streq "$(default_checksum)" "$base1"
ok "a local package is uninstalled by name"

# Overrides: base packages removed or replaced, recorded in the origin.
tc override remove sample-tools > override-remove.out
d=$(default_deploy_dir)
assert_not_has_file "$d/usr/bin/sample-hello"
assert_not_has_file "$d/usr/etc/sample/tools.conf"
assert_has_file "$d/usr/bin/busybox"
rm -rf dbcopy && cp -a "$d/usr/lib/sysimage/rpm" dbcopy
rpm -qa --dbpath "$test_tmpdir/dbcopy" --qf '%{NAME}\n' | sort > rpmqa.txt
assert_not_file_has_content rpmqa.txt '^sample-tools$'
assert_file_has_content rpmqa.txt '^sample-shadow$'
assert_file_has_content "$(origin_file "$(deployment_list | sed -n 1p)")" '^remove=sample-tools;$'
tc status > status.txt
assert_file_has_content status.txt "RemovedBasePackages: sample-tools"
assert_streq "$(json_dep 0 '"requested-base-removals"[0]')" "sample-tools"
ok "override remove deploys the base without the package's files and rpmdb entry"

before=$(default_checksum)
n_before=$(deployment_count)
run_expect_fail 'override remove: the base has no package "no-such-package"' \
  tc override remove no-such-package
check_unchanged
run_expect_fail 'sample-shadow' tc override remove sample-busybox
assert_file_has_content err.txt 'cannot resolve the requested packages'
check_unchanged
run_expect_fail 'override replace: layer-lib-1.0-1.noarch replaces nothing: the base has no package "layer-lib"' \
  tc override replace "$LAYER_REPO/layer-lib-1.0-1.noarch.rpm"
check_unchanged
run_expect_fail 'package "layer-app" has no override (overridden packages: sample-tools)' \
  tc override reset layer-app
run_expect_fail 'override replace: "sample-tools" is not a .rpm file' tc override replace sample-tools
run_expect_fail 'override reset takes PACKAGE... or --all' tc override reset
check_unchanged
ok "override of a package the base lacks, of one the base needs, and reset of no override are refused by name"

tc override reset sample-tools > reset.out
assert_streq "$(default_checksum)" "$base1"
tc override replace "$LAYER_REPO/sample-tools-2.0-1.noarch.rpm" > replace.out
d=$(default_deploy_dir)
assert_has_file "$d/usr/bin/sample-tools"
assert_not_has_file "$d/usr/bin/sample-hello"
rm -rf dbcopy && cp -a "$d/usr/lib/sysimage/rpm" dbcopy
assert_streq "$(rpm -q --dbpath "$test_tmpdir/dbcopy" sample-tools)" "sample-tools-2.0-1.noarch"
assert_file_has_content "$(origin_file "$(deployment_list | sed -n 1p)")" '^replace-local=sample-tools-2.0-1.noarch;$'
tc status > status.txt
assert_file_has_content status.txt "ReplacedBasePackages: sample-tools-2.0-1.noarch"
tc override reset --all > reset-all.out
assert_streq "$(default_checksum)" "$base1"
ok "override replace swaps a base package for a local RPM; override reset --all returns to the base"

# Upgrades re-apply the layer on the new base (the local package from the cache).
tc install layer-app layer-user "$LOCAL_DIR/layer-local-1.0-1.noarch.rpm" > install3.out
tc override remove sample-tools > override3.out
RPM_REPO_DIR=$BASE_REPO
build_release_package 2
make_repo
base2=$(compose_base)
n_before=$(deployment_count)
tc upgrade --preview > preview.out
assert_file_has_content preview.out "Update available"
assert_file_has_content preview.out "Package changes against the deployed base ${base1:0:12}: 1 upgraded"
assert_file_has_content preview.out "sample-release 1-1 -> 2-1"
assert_streq "$(deployment_count)" "$n_before"
ok "upgrade --preview lists the package changes of the new base and deploys nothing"

tc upgrade > upgrade.out
layered2=$(default_checksum)
assert_streq "$(json_dep 0 '"base-checksum"')" "$base2"
assert_streq "$(json_dep 0 'version')" "1.1"
d=$(default_deploy_dir)
assert_has_file "$d/usr/bin/layer-app"
assert_has_file "$d/usr/bin/layer-local"
assert_not_has_file "$d/usr/bin/sample-hello"
assert_file_has_content "$d/etc/passwd" '^layeruser:'
assert_file_has_content "$d/usr/lib/os-release" 'VERSION_ID=2'
run_expect_rc 77 tc upgrade
tc status -v > status-v.txt
assert_file_has_content status-v.txt "PackageDiff: 1 downgraded (against ${layered2:0:12})"
assert_file_has_content status-v.txt "sample-release 2-1 -> 1-1"
ok "upgrade pulls the new base and applies the layered packages and overrides again (users too); status -v shows the package diff"

# A new base the layer no longer fits: the upgrade fails and nothing is deployed.
build_rpm sample-blocker conflicts layer-app
make_repo
sed -i 's/sample-shadow\]/sample-shadow, sample-blocker]/' compose/base.yaml
compose_base > /dev/null
n_before=$(deployment_count)
run_expect_fail 're-applying the layered packages and overrides on' tc upgrade
assert_file_has_content err.txt 'sample-blocker'
assert_streq "$(default_checksum)" "$layered2"
assert_streq "$(deployment_count)" "$n_before"
ok "an upgrade whose new base conflicts with the layer fails naming the package; nothing is deployed"

done_testing
