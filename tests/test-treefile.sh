#!/bin/bash
# compose tree --print-only on every root manifest of the real rpm-ostree treefiles in
# ../shared/testdata (Fedora CoreOS, RHCOS/SCOS, Silverblue & co, centos-bootc, rpm-ostree's
# own examples), and the CLI's messages for bad treefiles.
. "${TREECTL_SRCDIR:-$(dirname "$0")/..}/tests/libtest.sh"

data="$TREECTL_SRCDIR/../shared/testdata/treefiles"
[ -d "$data" ] || skip_all "../shared/testdata not present"
command -v jq >/dev/null || skip_all "jq not installed"

# The testdata copy stores git symbolic links (centos-bootc's tier-1 -> tier-0 links,
# openshift/os manifest.yaml ...) as plain files holding the link target. Work on a copy
# with those restored as links, which is what a git checkout has.
cp -r "$data" treefiles
chmod -R u+w treefiles
n_links=0
while IFS= read -r -d '' f; do
  target=$(cat "$f")
  [ -n "$(tail -c1 "$f")" ] || continue
  [[ "$target" =~ ^[A-Za-z0-9_.@/-]+$ ]] || continue
  [ -e "$(dirname "$f")/$target" ] || continue
  ln -sfn "$target" "$f"
  n_links=$((n_links + 1))
done < <(find treefiles -type f -size -256c -print0)
[ "$n_links" -gt 0 ] || fatal "no stored symbolic links found in $data"
ok "restored $n_links symbolic links"

# Root manifests: the treefiles no other treefile includes, plus the standalone RHCOS/SCOS
# manifests that the OCP/OKD ones include and the base example that the docker one includes.
roots=(
  centos-bootc@53adffa9/centos-stream-10-tier1.yaml
  centos-bootc@53adffa9/centos-stream-9-tier1.yaml
  centos-bootc@53adffa9/centos-tier-0-rt-stream9.yaml
  centos-bootc@53adffa9/centos-tier-0-stream9.yaml
  centos-bootc@53adffa9/centos-tier-1-rt-stream9.yaml
  centos-bootc@53adffa9/fedora-bootc.yaml
  centos-bootc@53adffa9/fedora-eln-bootc.yaml
  centos-bootc@53adffa9/fedora-tier-0-40.yaml
  centos-bootc@53adffa9/fedora-tier-0-eln.yaml
  centos-bootc@53adffa9/fedora-tier-0-rawhide.yaml
  fedora-coreos-config@2d0fce6d/manifest.yaml
  openshift-os@59eee00f/fedora-coreos-config/manifest.yaml
  openshift-os@59eee00f/manifest.yaml
  openshift-os@59eee00f/manifest-ocp-rhel-9.4.yaml
  openshift-os@59eee00f/manifest-ocp-rhel-9.6.yaml
  openshift-os@59eee00f/manifest-okd-c9s.yaml
  openshift-os@59eee00f/manifest-rhel-9.4.yaml
  openshift-os@59eee00f/manifest-rhel-9.6.yaml
  openshift-os@59eee00f/manifest-c9s.yaml
  workstation-ostree-config@f6457f06/fedora-base.yaml
  workstation-ostree-config@f6457f06/fedora-deepin.yaml
  workstation-ostree-config@f6457f06/fedora-kinoite.yaml
  workstation-ostree-config@f6457f06/fedora-lxqt.yaml
  workstation-ostree-config@f6457f06/fedora-mate.yaml
  workstation-ostree-config@f6457f06/fedora-pantheon.yaml
  workstation-ostree-config@f6457f06/fedora-silverblue.yaml
  workstation-ostree-config@f6457f06/fedora-vauxite.yaml
  rpm-ostree/api-doc/treefile-examples/fedora-rawhide-base.json
  rpm-ostree/api-doc/treefile-examples/fedora-rawhide-docker.json
  rpm-ostree/tests/composedata/fedora-base.json
  rpm-ostree/tests/compose-rootfs/manifest.yaml
)

out="$test_tmpdir/out.json"
real_tmpdir=$(realpath "$test_tmpdir")
# flatten ARCH FILE: the flattened treefile in $out, checked to be a JSON object.
flatten() {
  treectl compose tree --print-only --basearch "$1" "treefiles/$2" >"$out"
  jq -e 'type == "object" and (has("ref") or has("packages"))' "$out" >/dev/null \
    || fatal "$2 ($1): not a treefile object"
}
# expect JQ-FILTER: the filter is true of $out.
expect() {
  jq -e "$1" "$out" >/dev/null || { head -c 2000 "$out" >&2; fatal "expected $1"; }
}

for arch in x86_64 aarch64; do
  for root in "${roots[@]}"; do
    [ -f "treefiles/$root" ] || fatal "missing root manifest $root"
    flatten "$arch" "$root"
    expect '(.packages | type) == "array" and .basearch == "'"$arch"'"'
    expect 'has("include") or has("conditional-include") or has("variables") | not'
  done
  ok "all ${#roots[@]} root manifests flatten for $arch"
done

# Fedora CoreOS: ref from variables of the root, used in an include; conditional includes on
# prod, releasever (40) and basearch; packages-$basearch of fedora-coreos-base.yaml.
fcos=fedora-coreos-config@2d0fce6d/manifest.yaml
flatten x86_64 "$fcos"
expect '.ref == "fedora/x86_64/coreos/testing-devel"'
expect '."add-commit-metadata"."fedora-coreos.stream" == "testing-devel"'
expect '."automatic-version-prefix" == "40.<date:%Y%m%d>.dev" and ."mutate-os-release" == "40"'
expect '.packages | index("fedora-release-coreos") and index("irqbalance")'
expect '.packages | index("qemu-user-static-x86") | not'
expect '."exclude-packages" | index("dnf")'             # releasever < 41: exclude-dnf.yaml
expect '.packages | index("dnf5") | not'                # not include-dnf.yaml
expect '."ostree-layers" | index("overlay/16disable-zincati")'   # prod == false
expect '[."remove-from-packages"[][0]] | index("grub2-tools")'   # basearch != "s390x"
expect '."check-passwd".filename | endswith("/fedora-coreos-config@2d0fce6d/manifests/passwd")'
flatten s390x "$fcos"
expect '.ref == "fedora/s390x/coreos/testing-devel"'
expect '.packages | index("qemu-user-static-x86") and (index("irqbalance") | not)'
expect '[."remove-from-packages"[][0]] | index("grub2-tools") | not'
ok "fedora-coreos-config: variables, conditional-include, packages-\$basearch"

# RHCOS 9.6: osversion set by the root selects common.yaml's conditional includes.
flatten x86_64 openshift-os@59eee00f/manifest-ocp-rhel-9.6.yaml
expect '[."remove-from-packages"[][0]] | index("zram-generator")'
expect '.rojig.summary == "OpenShift 4.18" and ."mutate-os-release" == "4.18"'
expect '[."repo-packages"[].repo] == ["c9s-baseos", "c9s-appstream", "rhel-9.4-server-ose-4.18"]'
# manifest.yaml is a link to manifest-ocp-rhel-9.4.yaml
flatten x86_64 openshift-os@59eee00f/manifest.yaml
expect '.rojig.summary == "OpenShift 4.18" and (."automatic-version-prefix" | startswith("418.94."))'
ok "openshift/os: conditional includes on variables of the including manifests"

# centos-bootc: tier-1/manifest-tier-0.yaml is a link to tier-0/manifest.yaml, whose includes
# (bootc.yaml, arch-include bootupd.yaml ...) are next to the real file.
flatten x86_64 centos-bootc@53adffa9/centos-stream-9-tier1.yaml
expect '.packages | index("bootc") and index("microcode_ctl") and index("nano")'
expect '.releasever == "stream9" and ."automatic-version-prefix" == "stream9.<date:%Y%m%d>"'
expect '."check-passwd".filename | endswith("/centos-bootc@53adffa9/tier-0/passwd")'
flatten s390x centos-bootc@53adffa9/centos-stream-9-tier1.yaml
expect '.packages | (index("bootupd") or index("microcode_ctl")) | not'
ok "centos-bootc: includes through symbolic links, arch-include"

# Silverblue: ref with ${basearch}, underscore spellings in fedora-common-ostree.yaml.
flatten x86_64 workstation-ostree-config@f6457f06/fedora-silverblue.yaml
expect '.ref == "fedora/rawhide/x86_64/silverblue"'
expect '."automatic-version-prefix" == "38" and ."default-target" == "graphical.target"'
expect 'has("automatic_version_prefix") or has("default_target") | not'
expect '.packages | index("fedora-release-silverblue") and index("microcode_ctl")'
expect '.packages | index("extlinux-bootloader") | not'
ok "workstation-ostree-config: underscore keys, \${basearch}"

flatten x86_64 rpm-ostree/api-doc/treefile-examples/fedora-rawhide-docker.json
expect '.ref == "fedora-atomic/rawhide/x86_64/server/docker"'
expect '(.packages | index("docker-io") and index("kernel")) and .units == ["docker.service", "docker.socket"]'
flatten x86_64 rpm-ostree/tests/composedata/fedora-base.json
expect '(.packages | index("grub2-efi")) and ."add-commit-metadata".foobar == "bazboo"'
flatten x86_64 rpm-ostree/tests/compose-rootfs/manifest.yaml
expect '."boot-location" == "modules" and ."tmp-is-dir" == true'
ok "rpm-ostree examples: JSON include, packages-\$basearch, edition 2024"

# A real compose stops at the first key treectl does not implement yet, naming its file.
run_expect_fail 'manifests/fedora-coreos.yaml: key "rojig" is not implemented by treectl yet' \
  treectl compose tree --repo="$test_tmpdir/no-repo" --basearch x86_64 "treefiles/$fcos"
run_expect_fail 'fedora-rawhide-base.json: selinux: true is not supported: treectl has no SELinux policy support' \
  treectl compose tree --repo="$test_tmpdir/no-repo" --basearch x86_64 treefiles/rpm-ostree/api-doc/treefile-examples/fedora-rawhide-docker.json
ok "compose without --print-only refuses unimplemented keys"

# The stored-link file itself, used without restoring the link.
run_expect_fail 'manifest.yaml:1: expected a mapping of treefile keys, found the text "manifest-ocp-rhel-9.4.yaml"' \
  treectl compose tree --print-only --basearch x86_64 "$data/openshift-os@59eee00f/manifest.yaml"
ok "a symbolic link stored as a file is named as such"

mkdir bad
printf 'ref: a\n\nfrobnicate: 1\n' >bad/unknown.yaml
run_expect_fail 'bad/unknown.yaml:3: unknown key "frobnicate"' \
  treectl compose tree --print-only --basearch x86_64 bad/unknown.yaml
run_expect_fail 'bad/unknown.yaml:3: unknown key "frobnicate"' \
  treectl compose tree --basearch x86_64 bad/unknown.yaml
printf 'ref: a\ninclude:\n  - nope.yaml\n' >bad/missing.yaml
run_expect_fail 'bad/missing.yaml:3: include "nope.yaml": '"$real_tmpdir"'/bad/nope.yaml: No such file or directory' \
  treectl compose tree --print-only --basearch x86_64 bad/missing.yaml
printf 'ref: a\npackages:\n  - foo\n bar: x\n' >bad/syntax.yaml
run_expect_fail 'bad/syntax.yaml:4:2: did not find expected key' \
  treectl compose tree --print-only --basearch x86_64 bad/syntax.yaml
printf '{\n  "ref": "a",\n  "packages": "vim"\n}\n' >bad/type.json
run_expect_fail 'bad/type.json:3: key "packages": expected a list of strings, got a string' \
  treectl compose tree --print-only --basearch x86_64 bad/type.json
printf 'ref: ${stream}/a\n' >bad/variable.yaml
run_expect_fail 'bad/variable.yaml:1: ref: unknown variable "stream"' \
  treectl compose tree --print-only --basearch x86_64 bad/variable.yaml
printf 'include: loop-b.yaml\n' >bad/loop-a.yaml
printf 'include: loop-a.yaml\n' >bad/loop-b.yaml
run_expect_fail 'include loop: bad/loop-a.yaml -> '"$real_tmpdir"'/bad/loop-b.yaml -> '"$real_tmpdir"'/bad/loop-a.yaml' \
  treectl compose tree --print-only --basearch x86_64 bad/loop-a.yaml
run_expect_fail 'bad/absent.yaml: No such file or directory' \
  treectl compose tree --print-only --basearch x86_64 bad/absent.yaml
ok "bad treefiles: unknown key, missing include, syntax, type, variable, loop"

done_testing
