# Fixtures shared by the tests and the demo: GPG keys, a minimal bootable OS tree, a served
# ostree repository with signed commits. Needs $test_tmpdir (a scratch directory),
# $TREECTL_SRCDIR and a _bg_pids array for background processes to stop at exit.

# wait_for SECONDS CMD...: poll CMD until it succeeds.
wait_for() {
  local secs=$1; shift
  local end=$((SECONDS + secs))
  until "$@" >/dev/null 2>&1; do
    [ $SECONDS -lt $end ] || { echo "timed out after ${secs}s waiting for: $*" >&2; return 1; }
    sleep 0.1
  done
}

# GPG: a throwaway keyring with a signing key and a second, untrusted key.
setup_gpg() {
  export GNUPGHOME="$test_tmpdir/gnupg"
  mkdir -m 700 -p "$GNUPGHOME"
  gpg --batch --quiet --passphrase '' --quick-gen-key 'treectl test <test@treectl.invalid>' \
    ed25519 sign never 2>/dev/null
  gpg --batch --quiet --passphrase '' --quick-gen-key 'treectl other <other@treectl.invalid>' \
    ed25519 sign never 2>/dev/null
  TEST_GPG_KEYID=$(gpg --list-keys --with-colons 'test@treectl.invalid' | awk -F: '/^fpr/ {print $10; exit}')
  OTHER_GPG_KEYID=$(gpg --list-keys --with-colons 'other@treectl.invalid' | awk -F: '/^fpr/ {print $10; exit}')
  gpg --batch --armor --export "$TEST_GPG_KEYID" > "$test_tmpdir/test-key.asc"
  gpg --batch --armor --export "$OTHER_GPG_KEYID" > "$test_tmpdir/other-key.asc"
  export TEST_GPG_KEYID OTHER_GPG_KEYID
}

# make_os_tree DIR VERSION [KERNEL_TAG]: a minimal bootable tree in ostree layout. A new
# KERNEL_TAG gives a new kernel (and so a new boot checksum).
make_os_tree() {
  local dir=$1 version=$2 ktag=${3:-1} kver=6.1.0-treectl
  rm -rf "$dir"
  mkdir -p "$dir"/usr/{bin,lib/modules/$kver,etc/treectl} "$dir"/{sysroot,proc,sys,dev,run,tmp,var,boot}
  echo "fake kernel $ktag" > "$dir/usr/lib/modules/$kver/vmlinuz"
  echo "fake initramfs $ktag" > "$dir/usr/lib/modules/$kver/initramfs.img"
  cat > "$dir/usr/lib/os-release" <<OSR
NAME="TreeCtl Test OS"
ID=treectltest
VERSION_ID=$version
PRETTY_NAME="TreeCtl Test OS $version"
OSR
  ln -s ../lib/os-release "$dir/usr/etc/os-release"
  echo "treectl-test" > "$dir/usr/etc/hostname"
  echo "default-config-$version" > "$dir/usr/etc/treectl/base.conf"
  echo "unchanging" > "$dir/usr/etc/treectl/local.conf"
  printf '#!/bin/sh\necho %s\n' "$version" > "$dir/usr/bin/os-version"
  chmod 755 "$dir/usr/bin/os-version"
  ln -s sysroot/ostree "$dir/ostree"
  ln -s usr/bin "$dir/bin"
  ln -s usr/lib "$dir/lib"
}

# Server-side repository, served over HTTP on 127.0.0.1.
setup_remote_repo() {
  SRV_REPO="$test_tmpdir/srv/repo"
  mkdir -p "$SRV_REPO"
  ostree --repo="$SRV_REPO" init --mode=archive
  export SRV_REPO
}

# commit_os REF VERSION [extra ostree commit args...]: commit a fresh tree of VERSION to REF,
# signed with the test key unless --unsigned is among the extra args.
commit_os() {
  local ref=$1 version=$2; shift 2
  local sign=(--gpg-sign="$TEST_GPG_KEYID" --gpg-homedir="$GNUPGHOME")
  local extra=() ktag=1
  for a in "$@"; do
    case "$a" in
      --unsigned) sign=() ;;
      --sign-with-other) sign=(--gpg-sign="$OTHER_GPG_KEYID" --gpg-homedir="$GNUPGHOME") ;;
      --kernel=*) ktag=${a#--kernel=} ;;
      *) extra+=("$a") ;;
    esac
  done
  make_os_tree "$test_tmpdir/tree" "$version" "$ktag"
  ostree --repo="$SRV_REPO" commit --bootable -b "$ref" -s "TreeCtl Test OS $version" \
    --add-metadata-string=version="$version" "${sign[@]}" ${extra[@]+"${extra[@]}"} \
    --tree=dir="$test_tmpdir/tree" >/dev/null
  ostree --repo="$SRV_REPO" summary -u >/dev/null
  ostree --repo="$SRV_REPO" rev-parse "$ref"
}

# start_httpd DIR: serve DIR; sets HTTP_URL. Requests sleep while $HTTPD_DELAY_FILE exists.
start_httpd() {
  local dir=$1 portfile="$test_tmpdir/httpd-port"
  HTTPD_DELAY_FILE="$test_tmpdir/httpd-delay"
  rm -f "$portfile"
  python3 "$TREECTL_SRCDIR/tests/httpd.py" --dir "$dir" --port-file "$portfile" \
    --delay-file "$HTTPD_DELAY_FILE" 2>>"$test_tmpdir/httpd.log" &
  _bg_pids+=($!)
  wait_for 10 test -s "$portfile"
  HTTP_URL="http://127.0.0.1:$(cat "$portfile")"
  export HTTP_URL HTTPD_DELAY_FILE
}

