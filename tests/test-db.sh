#!/bin/bash
# treectl db list / db diff end to end: real RPMs composed into two commits (one package
# upgraded, one removed, one added, one changing arch), compared by ref, checksum, prefix and
# REF^, in a repository and on a sysroot after an upgrade; plus each bad input.
. "${TREECTL_SRCDIR:-$(dirname "$0")/..}/tests/libtest.sh"
. "$TREECTL_SRCDIR/tests/libtest-rpm.sh"

REF=sample/x86_64/base
build_base_packages 6.1.0-sample 1
build_rpm testpkg-lib version 1.0
build_rpm testpkg-old
build_rpm testpkg-arch
make_repo

mkdir compose srv
write_repo_file compose/test.repo test-repo "file://$RPM_REPO_DIR"
write_treefile() {
  cat > compose/db.yaml <<YAML
ref: $REF
repos: [test-repo]
packages: [sample-filesystem, sample-release, sample-kernel, testpkg-lib, testpkg-arch, $1]
YAML
}
write_treefile testpkg-old
ostree --repo=repo init --mode=archive
treectl compose tree --repo=repo --cachedir=cache compose/db.yaml > compose1.out
c1=$(ostree --repo=repo rev-parse "$REF")

# The sysroot starts on the first commit, served over http.
ln -s "$test_tmpdir/repo" srv/repo
start_httpd "$test_tmpdir/srv"
SYSROOT="$test_tmpdir/sysroot"
mkdir "$SYSROOT"
treectl --sysroot "$SYSROOT" init --os sample --url "$HTTP_URL/repo" --no-gpg-verify \
  "sample:$REF" > init.out

# Second commit: testpkg-lib 1.0 -> 1.1, testpkg-old removed, testpkg-new (epoch 2) added,
# testpkg-arch noarch -> x86_64.
build_rpm testpkg-lib version 1.1
build_rpm testpkg-new epoch 2 version 2.0
build_rpm testpkg-arch arch x86_64
rm -f "$RPM_REPO_DIR/testpkg-lib-1.0-1.noarch.rpm" "$RPM_REPO_DIR/testpkg-arch-1.0-1.noarch.rpm"
make_repo
write_treefile testpkg-new
treectl compose tree --repo=repo --cachedir=cache compose/db.yaml > compose2.out
c2=$(ostree --repo=repo rev-parse "$REF")
assert_strneq "$c2" "$c1"

treectl db list --repo=repo "$c1" > list1.txt
cat > expected.txt <<'EOF'
sample-filesystem-1.0-1.noarch
sample-kernel-6.1.0-1.noarch
sample-release-1-1.noarch
testpkg-arch-1.0-1.noarch
testpkg-lib-1.0-1.noarch
testpkg-old-1.0-1.noarch
EOF
diff -u expected.txt list1.txt
treectl db list --repo=repo "$REF" 'testpkg-[ln]*' sample-kernel > list2.txt
printf '%s\n' sample-kernel-6.1.0-1.noarch testpkg-lib-1.1-1.noarch testpkg-new-2:2.0-1.noarch > expected.txt
diff -u expected.txt list2.txt
treectl db list --repo=repo "$REF" 'nomatch*' > list3.txt
assert_streq "$(cat list3.txt)" ""
ok "db list prints NEVRAs (epoch only when set), filtered by name globs"

treectl db list --repo=repo --json "$REF" testpkg-new > list.json
cat > expected.json <<EOF
{"commit": "$c2", "packages": [{"name": "testpkg-new", "epoch": "2", "version": "2.0",
  "release": "1", "arch": "noarch", "nevra": "testpkg-new-2:2.0-1.noarch"}]}
EOF
assert_streq "$(jq -S . list.json)" "$(jq -S . expected.json)"
ok "db list --json"

treectl db diff --repo=repo "$c1" "$REF" > diff.txt
cat > expected.txt <<EOF
ostree diff commit from: $c1 ($c1)
ostree diff commit to:   $REF ($c2)
Upgraded:
  testpkg-lib 1.0-1 -> 1.1-1
Removed:
  testpkg-arch-1.0-1.noarch
  testpkg-old-1.0-1.noarch
Added:
  testpkg-arch-1.0-1.x86_64
  testpkg-new-2:2.0-1.noarch
EOF
diff -u expected.txt diff.txt
ok "db diff: upgraded, removed, added; an arch change is removed + added"

# The same commits named by checksum prefix and REF^, in reverse: a downgrade.
treectl db diff --repo=repo "${c2:0:10}" "$REF^" > rdiff.txt
cat > expected.txt <<EOF
ostree diff commit from: ${c2:0:10} ($c2)
ostree diff commit to:   $REF^ ($c1)
Downgraded:
  testpkg-lib 1.1-1 -> 1.0-1
Removed:
  testpkg-arch-1.0-1.x86_64
  testpkg-new-2:2.0-1.noarch
Added:
  testpkg-arch-1.0-1.noarch
  testpkg-old-1.0-1.noarch
EOF
diff -u expected.txt rdiff.txt
treectl db diff --repo=repo "$REF" "$c2" > same.txt
assert_streq "$(tail -n1 same.txt)" "No changes."
assert_streq "$(wc -l < same.txt)" 3
ok "db diff by checksum prefix and REF^ shows the downgrade; equal commits: No changes."

treectl db diff --repo=repo --json "$REF^" "$REF" > diff.json
cat > expected.json <<EOF
{
  "from": "$c1", "to": "$c2",
  "added": [
    {"name": "testpkg-arch", "epoch": "0", "version": "1.0", "release": "1", "arch": "x86_64",
     "nevra": "testpkg-arch-1.0-1.x86_64"},
    {"name": "testpkg-new", "epoch": "2", "version": "2.0", "release": "1", "arch": "noarch",
     "nevra": "testpkg-new-2:2.0-1.noarch"}
  ],
  "removed": [
    {"name": "testpkg-arch", "epoch": "0", "version": "1.0", "release": "1", "arch": "noarch",
     "nevra": "testpkg-arch-1.0-1.noarch"},
    {"name": "testpkg-old", "epoch": "0", "version": "1.0", "release": "1", "arch": "noarch",
     "nevra": "testpkg-old-1.0-1.noarch"}
  ],
  "upgraded": [{"name": "testpkg-lib", "arch": "noarch", "from": "1.0-1", "to": "1.1-1"}],
  "downgraded": []
}
EOF
assert_streq "$(jq -S . diff.json)" "$(jq -S . expected.json)"
treectl db diff --repo=repo --json "$REF" "$REF^" > rdiff.json
assert_streq "$(jq -c '.downgraded' rdiff.json)" \
  '[{"name":"testpkg-lib","arch":"noarch","from":"1.1-1","to":"1.0-1"}]'
ok "db diff --json"

# Sysroot: one deployment has no rollback to compare with.
run_expect_fail "$SYSROOT: no rollback deployment to compare with; give FROM" \
  treectl --sysroot "$SYSROOT" db diff
treectl --sysroot "$SYSROOT" upgrade > upgrade.out
treectl --sysroot "$SYSROOT" db diff > sdiff.txt
cat > expected.txt <<EOF
ostree diff commit from: rollback deployment ($c1)
ostree diff commit to:   default deployment ($c2)
Upgraded:
  testpkg-lib 1.0-1 -> 1.1-1
Removed:
  testpkg-arch-1.0-1.noarch
  testpkg-old-1.0-1.noarch
Added:
  testpkg-arch-1.0-1.x86_64
  testpkg-new-2:2.0-1.noarch
EOF
diff -u expected.txt sdiff.txt
# Only FROM: TO is the default deployment. The option may also follow the verb.
treectl db diff --sysroot "$SYSROOT" --json "$c1" > sdiff.json
assert_streq "$(jq -r '.to' sdiff.json)" "$c2"
assert_streq "$(jq -c '[.upgraded[].name, .added[].nevra]' sdiff.json)" \
  '["testpkg-lib","testpkg-arch-1.0-1.x86_64","testpkg-new-2:2.0-1.noarch"]'
treectl --sysroot "$SYSROOT" db list > slist.txt
treectl db list --repo=repo "$c2" > expected.txt
diff -u expected.txt slist.txt
treectl --sysroot "$SYSROOT" db list "sample:$REF" 'testpkg-l*' > slist2.txt
assert_streq "$(cat slist2.txt)" testpkg-lib-1.1-1.noarch
ok "db diff on a sysroot: rollback -> default after an upgrade; db list of the default"

run_expect_fail "nosuch: no such ref or commit in repo" treectl db diff --repo=repo nosuch "$REF"
assert_streq "$(wc -l < err.txt)" 1
run_expect_fail "nosuch^: no such ref or commit in repo" treectl db list --repo=repo 'nosuch^'
run_expect_fail "$REF^^: commit $c1 has no parent" treectl db list --repo=repo "$REF^^"
zeros=$(printf '0%.0s' {1..64})
run_expect_fail "$zeros: no such ref or commit in repo" treectl db list --repo=repo "$zeros"
run_expect_fail "nosuch: no such ref or commit in $SYSROOT/ostree/repo" \
  treectl --sysroot "$SYSROOT" db diff nosuch
ok "an unknown ref or commit fails naming it and the repository"

mkdir empty-tree
ostree --repo=repo commit -b plain --tree=dir=empty-tree > plain-commit
plain=$(cat plain-commit)
run_expect_fail "commit $plain has no treectl.rpmdb.pkglist (not composed by treectl)" \
  treectl db diff --repo=repo "$REF" plain
assert_streq "$(wc -l < err.txt)" 1
run_expect_fail "commit $plain has no treectl.rpmdb.pkglist" treectl db list --repo=repo plain
ok "a commit without a package list fails naming the commit"

mkdir notarepo
run_expect_fail "notarepo: not an ostree repository" treectl db list --repo=notarepo "$REF"
assert_streq "$(wc -l < err.txt)" 1
run_expect_fail "missing: not an ostree repository" treectl db diff --repo=missing "$REF" "$REF"
ok "--repo naming something that is not a repository fails"

run_expect_fail 'too many arguments: db diff takes at most FROM and TO (got "extra")' \
  treectl db diff --repo=repo "$REF" "$REF" extra
assert_streq "$(wc -l < err.txt)" 1
run_expect_fail 'unknown db subcommand "frobnicate"' treectl db frobnicate
run_expect_fail "db needs a subcommand" treectl db
run_expect_fail "--repo and --sysroot cannot be combined" \
  treectl --sysroot "$SYSROOT" db list --repo=repo "$REF"
run_expect_fail "with --repo, name the commits to compare (FROM and TO)" \
  treectl db diff --repo=repo "$REF"
ok "too many arguments, unknown subcommand, conflicting or missing sources fail clearly"

run_expect_rc 0 treectl db diff --help
assert_file_has_content_literal out.txt '"upgraded": [CHANGE...]'
run_expect_rc 0 treectl db --help
assert_file_has_content out.txt '^  diff '
ok "db and db diff --help describe the subcommands and the JSON"

done_testing
