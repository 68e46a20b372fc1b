#!/bin/bash
# compose import: RPM files -> package commits. Fixture RPMs built with rpmbuild, plus rpm's
# and libzypp's own test packages; results checked with stock ostree, rpm2cpio and cpio.
. "${TREECTL_SRCDIR:-$(dirname "$0")/..}/tests/libtest.sh"
. "$TREECTL_SRCDIR/tests/libtest-rpm.sh"

command -v rpmbuild >/dev/null || skip_all "rpmbuild is not installed"
command -v rpm2cpio >/dev/null || skip_all "rpm2cpio is not installed"
TESTDATA="$TREECTL_SRCDIR/../shared/testdata/rpms"
# Keep every rpm query away from the host's (on Debian: ~/.rpmdb) database.
RPMQ=(rpm --dbpath "$test_tmpdir/rpmdb")

# new_repo NAME MODE: a new empty repository $test_tmpdir/NAME; prints its path.
new_repo() {
  local r="$test_tmpdir/$1"
  [ ! -e "$r" ] || fatal "repository $r exists already"
  ostree --repo="$r" init --mode="$2"
  echo "$r"
}
# assert_repo_empty REPO: no refs and no commit objects at all.
assert_repo_empty() {
  assert_streq "$(ostree --repo="$1" refs)" ""
  assert_streq "$(find "$1/objects" -name '*.commit' | wc -l)" 0
}
# import_fails REPO MESSAGE RPM [OPTIONS...]: the import fails naming MESSAGE and the repo
# is left without refs or commits.
import_fails() {
  local repo=$1 msg=$2; shift 2
  run_expect_fail "$msg" treectl compose import --repo "$repo" "$@"
  assert_repo_empty "$repo"
}
# rebuild_payload NAME PAYLOAD: rebuild a build_rpm spec with another payload compressor.
rebuild_payload() {
  local out="$test_tmpdir/payload-$2"
  mkdir -p "$out"
  rpmbuild --quiet --nodeps --define "_topdir $test_tmpdir/rpmbuild" --define "_rpmdir $out" \
    --define "_build_name_fmt %%{NAME}-%%{VERSION}-%%{RELEASE}.%%{ARCH}.rpm" \
    --define "_binary_payload $2" -bb "$test_tmpdir/rpmbuild/SPECS/$1.spec" >/dev/null 2>&1
  echo "$out/$1-1.0-1.noarch.rpm"
}

# The main fixture: every kind of entry the importer handles.
build_rpm fixture install '
mkdir -p $RPM_BUILD_ROOT/usr/bin $RPM_BUILD_ROOT/usr/lib/fixture $RPM_BUILD_ROOT/etc/fixture \
  $RPM_BUILD_ROOT/var/lib/fixture/cache $RPM_BUILD_ROOT/opt/fixture/bin \
  $RPM_BUILD_ROOT/usr/share/doc/fixture $RPM_BUILD_ROOT/boot $RPM_BUILD_ROOT/run/fixture
printf "#!/bin/sh\necho hello\n" > $RPM_BUILD_ROOT/usr/bin/fixture-hello
chmod 755 $RPM_BUILD_ROOT/usr/bin/fixture-hello
ln -s fixture-hello $RPM_BUILD_ROOT/usr/bin/fixture-link
echo same-inode > $RPM_BUILD_ROOT/usr/lib/fixture/link-a
ln $RPM_BUILD_ROOT/usr/lib/fixture/link-a $RPM_BUILD_ROOT/usr/lib/fixture/link-b
ln $RPM_BUILD_ROOT/usr/lib/fixture/link-a $RPM_BUILD_ROOT/usr/lib/fixture/link-c
echo games-data > $RPM_BUILD_ROOT/usr/lib/fixture/games-owned
echo setgid-tool > $RPM_BUILD_ROOT/usr/bin/fixture-setgid
echo capped > $RPM_BUILD_ROOT/usr/bin/fixture-capped
chmod 755 $RPM_BUILD_ROOT/usr/bin/fixture-capped
echo conf=1 > $RPM_BUILD_ROOT/etc/fixture/fixture.conf
echo state > $RPM_BUILD_ROOT/var/lib/fixture/state
ln -s ../../usr/lib/fixture $RPM_BUILD_ROOT/var/lib/fixture-link
echo opt-tool > $RPM_BUILD_ROOT/opt/fixture/bin/tool
echo kernel > $RPM_BUILD_ROOT/boot/fixture-kernel
echo "read me" > $RPM_BUILD_ROOT/usr/share/doc/fixture/README
head -c 300000 /dev/urandom > $RPM_BUILD_ROOT/usr/lib/fixture/big.bin
' files '/usr/bin/fixture-hello
/usr/bin/fixture-link
%caps(cap_net_raw,cap_net_admin=ep) /usr/bin/fixture-capped
%attr(2755,root,games) /usr/bin/fixture-setgid
%dir %attr(0750,root,root) /usr/lib/fixture
/usr/lib/fixture/link-a
/usr/lib/fixture/link-b
/usr/lib/fixture/link-c
/usr/lib/fixture/big.bin
%attr(0640,games,games) /usr/lib/fixture/games-owned
%dir /etc/fixture
%config(noreplace) /etc/fixture/fixture.conf
%dir %attr(0750,games,games) /var/lib/fixture
%dir /var/lib/fixture/cache
/var/lib/fixture/state
/var/lib/fixture-link
%dir /run/fixture
/opt/fixture
/boot/fixture-kernel
%ghost /var/log/fixture.log
%ghost /usr/lib/fixture/ghost-file
%doc /usr/share/doc/fixture/README'
FIXTURE="$RPM_REPO_DIR/fixture-1.0-1.noarch.rpm"
REF=treectl/pkg/fixture/1.0-1.noarch

repo=$(new_repo repo bare-user)
treectl compose import --repo "$repo" "$FIXTURE" > import.out
commit=$(ostree --repo="$repo" rev-parse "$REF")
assert_streq "$(cat import.out)" "imported fixture-1.0-1.noarch as $commit on $REF"
assert_streq "$(ostree --repo="$repo" refs)" "$REF"
ostree --repo="$repo" fsck >/dev/null
ok "import a fixture into a bare-user repo: one commit on the package's ref"

# Every payload entry is in the tree, where the translation puts it, with its content.
mkdir extracted
(cd extracted && rpm2cpio "$FIXTURE" | cpio -idm --quiet)
ostree --repo="$repo" checkout -U "$REF" co
translate() {
  case "$1" in
    ./etc | ./etc/*) echo "./usr/etc${1#./etc}" ;;
    ./opt | ./opt/*) echo "./usr/lib/opt${1#./opt}" ;;
    ./boot | ./boot/*) echo "./usr/lib/ostree-boot${1#./boot}" ;;
    ./var | ./var/* | ./run | ./run/*) echo "" ;;
    *) echo "$1" ;;
  esac
}
n_compared=0
while IFS= read -r p; do
  t=$(translate "$p")
  if [ -z "$t" ]; then
    assert_not_has_file "co/${p#./}"
    continue
  fi
  if [ -L "extracted/$p" ]; then
    assert_streq "$(readlink "co/$t")" "$(readlink "extracted/$p")"
  elif [ -d "extracted/$p" ]; then
    assert_has_dir "co/$t"
  else
    cmp "extracted/$p" "co/$t" || fatal "content of $p differs in the commit"
    mode=$(stat -c %a "extracted/$p")
    [ "$p" = ./usr/bin/fixture-setgid ] && mode=755 # set-gid withheld until the chown
    assert_streq "$(stat -c %a "co/$t")" "$mode"
  fi
  n_compared=$((n_compared + 1))
done < <(cd extracted && find . -mindepth 1 | sort)
[ "$n_compared" -ge 20 ] || fatal "only $n_compared entries compared"
# Nothing beyond the payload, except the generated tmpfiles.d fragment and parent dirs.
(cd co && find . -type f | sort) > committed-files
(cd extracted && find . -type f | sort) | while IFS= read -r p; do translate "$p"; done \
  | sed '/^$/d' | sort > expected-files
echo ./usr/lib/tmpfiles.d/pkg-fixture.conf >> expected-files
sort -o expected-files expected-files
diff -u expected-files committed-files
assert_not_has_file co/var
assert_not_has_file co/usr/lib/fixture/ghost-file
assert_streq "$(stat -c %a co/usr/lib/fixture)" 750
ok "checkout matches rpm2cpio extraction mapped through the translation"

ostree --repo="$repo" ls -C -R "$REF" /usr/lib/fixture > ls.out
csum_a=$(awk '$NF == "/usr/lib/fixture/link-a" {print $5}' ls.out)
[ -n "$csum_a" ] || fatal "link-a missing"
for f in link-b link-c; do
  assert_streq "$(awk -v p="/usr/lib/fixture/$f" '$NF == p {print $5}' ls.out)" "$csum_a"
done
assert_strneq "$(awk '$NF == "/usr/lib/fixture/games-owned" {print $5}' ls.out)" "$csum_a"
ok "hardlinked files share one content object"

ostree --repo="$repo" cat "$REF" /usr/lib/tmpfiles.d/pkg-fixture.conf > tmpfiles.conf
cat > tmpfiles.expected <<'EOF'
L /var/opt/fixture - - - - /usr/lib/opt/fixture
d /run/fixture 0755 root root - -
d /var/lib/fixture 0750 games games - -
L /var/lib/fixture-link - - - - ../../usr/lib/fixture
d /var/lib/fixture/cache 0755 root root - -
EOF
diff -u tmpfiles.expected tmpfiles.conf
assert_has_file co/usr/lib/opt/fixture/bin/tool
ok "/var and /run entries become tmpfiles.d lines; /opt content is linked from /var/opt"

show_key() { ostree --repo="$repo" show --print-metadata-key="$1" "${2:-$REF}"; }
# ostree's CLI treats serialized variants as big-endian and so prints integers byte-swapped
# on little-endian hosts (its own --add-metadata values too): undo that.
show_u32() {
  local v
  v=$(show_key "$@" | grep -oE 'uint32 [0-9]+' | head -n1 | cut -d' ' -f2)
  if [ "$(printf '\001\000' | od -An -tu2 | tr -d ' ')" = 1 ]; then
    v=$(( ((v & 0xff) << 24) | ((v & 0xff00) << 8) | ((v >> 8) & 0xff00) | ((v >> 24) & 0xff) ))
  fi
  echo "$v"
}
assert_streq "$(show_key treectl.nevra)" "('fixture', '0', '1.0', '1', 'noarch')"
assert_streq "$(show_key treectl.rpm.sha256)" "'$(sha256sum "$FIXTURE" | cut -d' ' -f1)'"
assert_streq "$(show_u32 treectl.unpack-version)" 1
assert_streq "$(show_key treectl.nodocs)" "false"
assert_streq "$(show_key treectl.nonroot-files)" \
  "[('usr/bin/fixture-setgid', 'root', 'games'), ('usr/lib/fixture/games-owned', 'games', 'games')]"
show_key treectl.nonroot-setid > setid.out
assert_file_has_content_literal setid.out "[('usr/bin/fixture-setgid', uint32 "
# S_IFREG | 02755
assert_streq "$(show_u32 treectl.nonroot-setid | awk '{printf "%o", $1}')" 102755
assert_streq "$(show_key treectl.dropped-var-files)" "['/var/lib/fixture/state']"
# The header blob is the package's header: its length is what rpm reports for it.
show_key treectl.rpm.header | grep -o '0x[0-9a-f][0-9a-f]' | wc -l > header-len
[ "$(cat header-len)" -gt 1000 ] || fatal "header blob too short: $(cat header-len)"
ostree --repo="$repo" log "$REF" > log.out
assert_file_has_content_literal log.out "fixture-1.0-1.noarch"
assert_streq "$(ostree --repo="$repo" ls "$REF" /usr/bin/fixture-setgid | awk '{print $1, $2, $3}')" \
  "-00755 0 0"
ok "commit metadata: nevra, rpm sha256, unpack version, non-root owners, dropped /var files"

ostree --repo="$repo" ls -X "$REF" /usr/bin/fixture-capped > caps.out
assert_file_has_content_literal caps.out "security.capability"
rm -rf co-caps
ostree --repo="$repo" checkout "$REF" co-caps
if command -v getcap >/dev/null && [ "$(id -u)" = 0 ]; then
  getcap co-caps/usr/bin/fixture-capped > getcap.out
  assert_file_has_content getcap.out "cap_net_admin,cap_net_raw=ep"
fi
ok "file capabilities are stored as security.capability"

# Same file, same commit: the build time is the commit time. Archive repos hold the same.
treectl compose import --repo "$repo" "$FIXTURE" >/dev/null
assert_streq "$(ostree --repo="$repo" rev-parse "$REF")" "$commit"
arepo=$(new_repo arepo archive)
treectl compose import --repo "$arepo" "$FIXTURE" >/dev/null
assert_streq "$(ostree --repo="$arepo" rev-parse "$REF")" "$commit"
ostree --repo="$arepo" fsck >/dev/null
ok "import is reproducible and gives the same commit in an archive repo"

nrepo=$(new_repo nrepo bare-user)
treectl compose import --repo "$nrepo" --nodocs "$FIXTURE" >/dev/null
ostree --repo="$nrepo" ls -R "$REF" > nodocs.ls
assert_not_file_has_content nodocs.ls "README"
assert_file_has_content nodocs.ls "/usr/bin/fixture-hello"
assert_streq "$(ostree --repo="$nrepo" show --print-metadata-key=treectl.nodocs "$REF")" "true"
ok "--nodocs leaves documentation out"

zrepo=$(new_repo zrepo bare-user)
for payload in w9.gzdio w19.zstdio w9.bzdio; do
  rpm=$(rebuild_payload fixture "$payload")
  assert_streq "$("${RPMQ[@]}" -qp --qf '%{PAYLOADCOMPRESSOR}' "$rpm")" \
    "$(case $payload in *gz*) echo gzip ;; *zstd*) echo zstd ;; *) echo bzip2 ;; esac)"
  treectl compose import --repo "$zrepo" "$rpm" >/dev/null
  rm -rf co-p
  ostree --repo="$zrepo" checkout -U "$REF" co-p
  rpm2cpio "$rpm" | cpio -i --quiet --to-stdout ./usr/lib/fixture/big.bin \
    | cmp - co-p/usr/lib/fixture/big.bin
  assert_streq "$(ostree --repo="$zrepo" ls -R "$REF" | wc -l)" "$(ostree --repo="$repo" ls -R "$REF" | wc -l)"
done
ok "gzip, zstd and bzip2 payloads import the same tree"

# Two packages in one call, epoch in the ref; a later failure keeps the earlier commit.
build_rpm epochpkg epoch 3 version 2.0
build_rpm evil-srv install 'mkdir -p $RPM_BUILD_ROOT/srv/www && echo hi > $RPM_BUILD_ROOT/srv/www/index.html' \
  files '/srv/www/index.html'
mrepo=$(new_repo mrepo bare-user)
run_expect_fail "evil-srv-1.0-1.noarch: Unsupported path /srv/www" \
  treectl compose import --repo "$mrepo" "$RPM_REPO_DIR/epochpkg-2.0-1.noarch.rpm" \
  "$RPM_REPO_DIR/evil-srv-1.0-1.noarch.rpm"
assert_file_has_content_literal out.txt "imported epochpkg-3:2.0-1.noarch as"
assert_streq "$(ostree --repo="$mrepo" refs)" "treectl/pkg/epochpkg/3_3A2.0-1.noarch"
ostree --repo="$mrepo" show --print-metadata-key=treectl.nevra treectl/pkg/epochpkg/3_3A2.0-1.noarch > nevra.out
assert_file_has_content_literal nevra.out "('epochpkg', '3', '2.0', '1', 'noarch')"
ok "several RPMs per call; the first failure stops with non-zero exit, earlier commits stay"

# --- bad input, each with its own message and an untouched repository ---
erepo=$(new_repo erepo bare-user)
: > empty.rpm
import_fails "$erepo" "importing empty.rpm: empty file (0 bytes), not an RPM package" empty.rpm
ok "zero-byte file"

echo "this is not a package" > text.rpm
import_fails "$erepo" "importing text.rpm: not an RPM package" text.rpm
import_fails "$erepo" "importing $test_tmpdir/missing.rpm: opening: No such file or directory" \
  "$test_tmpdir/missing.rpm"
ok "text file named .rpm, missing file"

# A payload cut short: the same fixture with its last 1000 bytes gone.
head -c -1000 "$FIXTURE" > truncated.rpm
import_fails "$erepo" "importing truncated.rpm: corrupt: file has" truncated.rpm
# One payload byte flipped: sizes agree, the payload digest does not.
cp "$FIXTURE" flipped.rpm
off=$(($(stat -c %s flipped.rpm) - 50))
byte=$(od -An -tu1 -j "$off" -N1 flipped.rpm | tr -d ' ')
printf "\\x$(printf %02x $(((byte + 1) % 256)))" | dd of=flipped.rpm bs=1 seek="$off" conv=notrunc status=none
import_fails "$erepo" "importing flipped.rpm: payload digest mismatch" flipped.rpm
ok "truncated and corrupted payloads of a fixture"

if [ -f "$TESTDATA/rpm/hello-2.0-1.x86_64-corrupted.rpm" ]; then
  import_fails "$erepo" "truncated: the file ends before the payload" \
    "$TESTDATA/rpm/hello-2.0-1.x86_64-corrupted.rpm"
  Z="$TESTDATA/libzypp-RpmPkgSigCheck"
  import_fails "$erepo" "unsigned_broken.rpm: corrupt: file has 5773 bytes, its header says 5772" \
    "$Z/unsigned_broken.rpm"
  import_fails "$erepo" "signed_broken.rpm: corrupt: file has 6933 bytes" "$Z/signed_broken.rpm"
  import_fails "$erepo" "unsigned_broken_header.rpm: header digest or signature check failed: Header SHA256 digest: BAD" \
    "$Z/unsigned_broken_header.rpm"
  import_fails "$erepo" "signed_broken_header.rpm: header digest or signature check failed: Header V4 RSA/SHA256 Signature, key ID bb65a216: BAD" \
    "$Z/signed_broken_header.rpm"
  import_fails "$erepo" "no.rpm: empty file (0 bytes)" "$Z/no.rpm"
  ok "rpm's truncated hello and libzypp's broken payload and header packages"
else
  ok "# skip rpm and libzypp test packages not found under $TESTDATA"
fi

if [ -f "$TESTDATA/rpm/hello-2.0-1.x86_64-signed.rpm" ]; then
  mkdir keys-rpm keys-other keys-junk
  cp "$TESTDATA/rpm/keys/rpm.org-rsa-2048-test.pub" keys-rpm/
  cp "$TESTDATA/libzypp-RpmPkgSigCheck/signed.key" keys-other/
  echo junk > keys-junk/junk.asc
  HELLO="$TESTDATA/rpm/hello-2.0-1.x86_64-signed.rpm"
  import_fails "$erepo" "package is not signed, and a signature is required" \
    --keyring keys-rpm --require-signature "$FIXTURE"
  import_fails "$erepo" "signed with a key that is not in the keyring keys-other: Header V4 RSA/SHA256 Signature, key ID 1964c5fc: NOKEY" \
    --keyring keys-other --require-signature "$HELLO"
  import_fails "$erepo" "keys-junk/junk.asc: not an OpenPGP public key librpm can use" \
    --keyring keys-junk --require-signature "$HELLO"
  run_expect_fail "--require-signature needs --keyring" \
    treectl compose import --repo "$erepo" --require-signature "$HELLO"
  ok "unsigned package, signature by an unknown key, unusable key file"

  srepo=$(new_repo srepo bare-user)
  treectl compose import --repo "$srepo" --keyring keys-rpm --require-signature "$HELLO" > signed.out
  assert_file_has_content signed.out "^imported hello-2.0-1.x86_64 as [0-9a-f]\{64\} on treectl/pkg/hello/2.0-1.x86__64$"
  # Without a required signature a package signed by an unknown key still imports.
  treectl compose import --repo "$srepo" "$TESTDATA/libzypp-RpmPkgSigCheck/signed.rpm" >/dev/null
  ostree --repo="$srepo" fsck >/dev/null
  ok "a package signed with a key from --keyring imports"
else
  ok "# skip rpm's signed test packages not found under $TESTDATA"
fi

# A directory symlink shipped by the package with a file below it: writing the file would
# go through the link, out of /usr.
build_rpm evil-link install 'mkdir -p $RPM_BUILD_ROOT/usr/lib $RPM_BUILD_ROOT/etc && ln -s ../../etc $RPM_BUILD_ROOT/usr/lib/evil && echo owned > $RPM_BUILD_ROOT/etc/x' \
  files '/usr/lib/evil
/usr/lib/evil/x
%exclude /etc/x'
EVIL="$RPM_REPO_DIR/evil-link-1.0-1.noarch.rpm"
"${RPMQ[@]}" -qpl "$EVIL" > evil.list
assert_file_has_content_literal evil.list "/usr/lib/evil/x"
import_fails "$erepo" "evil-link-1.0-1.noarch: path /usr/lib/evil/x would be written through symlink /usr/lib/evil shipped by the same package" "$EVIL"
# The same below a symlink that becomes a tmpfiles.d line.
build_rpm evil-var install 'mkdir -p $RPM_BUILD_ROOT/var/lib && ln -s ../../etc $RPM_BUILD_ROOT/var/lib/evil && mkdir -p $RPM_BUILD_ROOT/etc/sub' \
  files '/var/lib/evil
%dir /var/lib/evil/sub'
import_fails "$erepo" "path /var/lib/evil/sub would be written through symlink /var/lib/evil" \
  "$RPM_REPO_DIR/evil-var-1.0-1.noarch.rpm"
import_fails "$erepo" "evil-srv-1.0-1.noarch: Unsupported path /srv/www" \
  "$RPM_REPO_DIR/evil-srv-1.0-1.noarch.rpm"
ok "writing through a package's own symlink and unsupported top-level paths are refused"

build_rpm clash install 'mkdir -p $RPM_BUILD_ROOT/etc $RPM_BUILD_ROOT/usr/etc && echo a > $RPM_BUILD_ROOT/etc/clash.conf && echo b > $RPM_BUILD_ROOT/usr/etc/clash.conf' \
  files '/etc/clash.conf
/usr/etc/clash.conf'
import_fails "$erepo" "clash-1.0-1.noarch: /etc/clash.conf and /usr/etc/clash.conf both map to /usr/etc/clash.conf" \
  "$RPM_REPO_DIR/clash-1.0-1.noarch.rpm"
ok "two entries translated to one path are refused"

FS="$TESTDATA/librepo/filesystem-2.4.44-1.fc16.i686.rpm"
if [ -f "$FS" ]; then
  import_fails "$erepo" "filesystem-2.4.44-1.fc16.i686: Unsupported path /dev" "$FS"
  frepo=$(new_repo frepo bare-user)
  treectl compose import --repo "$frepo" --skip-unsupported "$FS" >/dev/null
  fref=treectl/pkg/filesystem/2.4.44-1.fc16.i686
  assert_streq "$(ostree --repo="$frepo" show --print-metadata-key=treectl.skipped-paths "$fref")" \
    "['/dev', '/home', '/media', '/mnt', '/proc', '/root', '/srv', '/sys', '/tmp']"
  ostree --repo="$frepo" cat "$fref" /usr/lib/tmpfiles.d/pkg-filesystem.conf > fs-tmpfiles
  assert_file_has_content_literal fs-tmpfiles "d /var/spool/mail 0775 root mail - -"
  assert_file_has_content_literal fs-tmpfiles "L /var/mail - - - - spool/mail"
  assert_file_has_content_literal fs-tmpfiles "d /run/lock 0755 root root - -"
  ostree --repo="$frepo" ls "$fref" /usr/share/locale/de > fs-ls
  assert_file_has_content fs-ls "LC_MESSAGES"
  ostree --repo="$frepo" fsck >/dev/null
  ok "Fedora's filesystem package imports with --skip-unsupported (xz payload, ghosts, legacy MD5)"
else
  ok "# skip the filesystem test package is not under $TESTDATA"
fi

done_testing
