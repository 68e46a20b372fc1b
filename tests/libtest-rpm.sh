# Building fixture RPMs and rpm-md repositories for compose and layering tests (and the
# sample OS): rpmbuild makes real packages, createrepo_c real repodata.
#
# build_rpm NAME [KEY VALUE]...   keys: version release epoch arch requires provides
#   conflicts recommends obsoletes summary install files pre post posttrans extra
#   (requires/provides/... may repeat; "extra" is spec text added at the end, e.g. triggers; "install" is shell run in %install with $RPM_BUILD_ROOT
#   as the root; "files" lines go to %files). By default the package ships /usr/bin/NAME.
# RPMs land in $RPM_REPO_DIR (default $test_tmpdir/yumrepo); call make_repo after.

RPM_REPO_DIR=${RPM_REPO_DIR:-$test_tmpdir/yumrepo}
# rpmbuild's working tree (sources, build roots it removes after each package).
RPMBUILD_TOPDIR=${RPMBUILD_TOPDIR:-$test_tmpdir/rpmbuild}

build_rpm() {
  local name=$1; shift
  local version=1.0 release=1 epoch="" arch=noarch summary="treectl test package $name"
  local install="" files="" pre="" post="" posttrans="" deps="" extra=""
  while [ $# -gt 0 ]; do
    local k=$1 v=${2-}; shift 2 || { echo "build_rpm: $k needs a value" >&2; return 1; }
    case "$k" in
      version) version=$v ;;
      release) release=$v ;;
      epoch) epoch=$v ;;
      arch) arch=$v ;;
      summary) summary=$v ;;
      requires) deps+="Requires: $v"$'\n' ;;
      provides) deps+="Provides: $v"$'\n' ;;
      conflicts) deps+="Conflicts: $v"$'\n' ;;
      recommends) deps+="Recommends: $v"$'\n' ;;
      obsoletes) deps+="Obsoletes: $v"$'\n' ;;
      install) install+="$v"$'\n' ;;
      files) files+="$v"$'\n' ;;
      pre) pre+="$v"$'\n' ;;
      post) post+="$v"$'\n' ;;
      posttrans) posttrans+="$v"$'\n' ;;
      extra) extra+="$v"$'\n' ;;
      *) echo "build_rpm: unknown key $k" >&2; return 1 ;;
    esac
  done
  if [ -z "$install" ] && [ -z "$files" ]; then
    install="mkdir -p \$RPM_BUILD_ROOT/usr/bin && printf '#!/bin/sh\necho $name-$version-$release\n' > \$RPM_BUILD_ROOT/usr/bin/$name && chmod 755 \$RPM_BUILD_ROOT/usr/bin/$name"
    files="/usr/bin/$name"$'\n'
  fi
  local top="$RPMBUILD_TOPDIR"
  mkdir -p "$top/SPECS" "$RPM_REPO_DIR"
  local spec="$top/SPECS/$name.spec"
  {
    echo "Name: $name"
    echo "Version: $version"
    echo "Release: $release"
    [ -n "$epoch" ] && echo "Epoch: $epoch"
    echo "Summary: $summary"
    echo "License: MIT"
    echo "BuildArch: $arch"
    echo "AutoReqProv: no"
    printf '%s' "$deps"
    echo
    echo "%description"
    echo "$summary"
    echo
    echo "%install"
    printf '%s\n' "$install"
    [ -n "$pre" ] && printf '%%pre\n%s\n' "$pre"
    [ -n "$post" ] && printf '%%post\n%s\n' "$post"
    [ -n "$posttrans" ] && printf '%%posttrans\n%s\n' "$posttrans"
    echo "%files"
    printf '%s' "$files"
    printf '%s' "$extra"
  } > "$spec"
  rpmbuild --quiet --nodeps --define "_topdir $top" --define "_rpmdir $RPM_REPO_DIR" \
    --define "_build_name_fmt %%{NAME}-%%{VERSION}-%%{RELEASE}.%%{ARCH}.rpm" \
    --define "_binary_payload w2.xzdio" --define "_build_id_links none" -bb "$spec" >"$top/$name.log" 2>&1 \
    || { cat "$top/$name.log" >&2; return 1; }
}

# make_repo [DIR]: (re)generate rpm-md metadata for the RPMs in DIR.
make_repo() {
  createrepo_c --quiet --no-database "${1:-$RPM_REPO_DIR}" >/dev/null
}

# write_repo_file FILE ID URL [gpgcheck=0|1 [GPGKEY_URL]]
write_repo_file() {
  local file=$1 id=$2 url=$3 gpgcheck=${4:-0} key=${5:-}
  {
    echo "[$id]"
    echo "name=$id"
    echo "baseurl=$url"
    echo "enabled=1"
    echo "gpgcheck=$gpgcheck"
    if [ -n "$key" ]; then echo "gpgkey=$key"; fi
  } > "$file"
}

# build_release_package VERSION: the sample OS's os-release, in its own package so an
# update can change just it.
build_release_package() {
  local osver=$1
  build_rpm sample-release version "$osver" \
    install "mkdir -p \$RPM_BUILD_ROOT/usr/lib \$RPM_BUILD_ROOT/etc && printf 'NAME=\"Sample OS\"\nID=sample\nVERSION_ID=$osver\nPRETTY_NAME=\"Sample OS $osver\"\n' > \$RPM_BUILD_ROOT/usr/lib/os-release && ln -s ../usr/lib/os-release \$RPM_BUILD_ROOT/etc/os-release && echo sample > \$RPM_BUILD_ROOT/etc/hostname" \
    files '/usr/lib/os-release'$'\n''/etc/os-release'$'\n''%config(noreplace) /etc/hostname'
}

# build_base_packages: a tiny bootable OS as packages: filesystem layout, a "kernel", an
# os-release and a shell-ish tool, enough for compose to produce a deployable commit.
build_base_packages() {
  local kver=${1:-6.1.0-sample} osver=${2:-1}
  build_rpm sample-filesystem \
    install 'mkdir -p $RPM_BUILD_ROOT/usr/bin $RPM_BUILD_ROOT/usr/sbin $RPM_BUILD_ROOT/usr/lib $RPM_BUILD_ROOT/usr/share $RPM_BUILD_ROOT/etc $RPM_BUILD_ROOT/var/lib' \
    files '%dir /usr/share'$'\n''%dir /var/lib'
  build_release_package "$osver"
  build_rpm sample-kernel version "${kver%%-*}" \
    install "mkdir -p \$RPM_BUILD_ROOT/usr/lib/modules/$kver && echo 'sample kernel $kver' > \$RPM_BUILD_ROOT/usr/lib/modules/$kver/vmlinuz && echo 'sample initramfs' > \$RPM_BUILD_ROOT/usr/lib/modules/$kver/initramfs.img" \
    files "/usr/lib/modules/$kver"
  build_rpm sample-tools requires sample-filesystem \
    install 'mkdir -p $RPM_BUILD_ROOT/usr/bin $RPM_BUILD_ROOT/etc/sample && printf "#!/bin/sh\necho hello from sample-tools\n" > $RPM_BUILD_ROOT/usr/bin/sample-hello && chmod 755 $RPM_BUILD_ROOT/usr/bin/sample-hello && echo "setting=1" > $RPM_BUILD_ROOT/etc/sample/tools.conf' \
    files '/usr/bin/sample-hello'$'\n''%config(noreplace) /etc/sample/tools.conf'
}

# build_shell_packages: a shell (the host's static busybox) and shadow's useradd/groupadd
# with the libraries they link, packaged so scriptlets have something to run.
build_shell_packages() {
  local stage="$test_tmpdir/shell-stage"
  rm -rf "$stage"
  mkdir -p "$stage/busybox/usr/bin" "$stage/shadow/usr/sbin" "$stage/shadow/usr/lib64" \
    "$stage/shadow/usr/lib/x86_64-linux-gnu"
  cp "$(command -v busybox)" "$stage/busybox/usr/bin/busybox"
  for a in sh cat echo mkdir ls grep sed touch id rm cp mv chmod chown test true false head; do
    ln -s busybox "$stage/busybox/usr/bin/$a"
  done
  cp /usr/sbin/useradd /usr/sbin/groupadd "$stage/shadow/usr/sbin/"
  for lib in $(ldd /usr/sbin/useradd /usr/sbin/groupadd | grep -oE '/[^ ]+\.so[^ ]*' | sort -u); do
    case "$lib" in
      */ld-linux*) cp -L "$lib" "$stage/shadow/usr/lib64/" ;;
      *) cp -L "$lib" "$stage/shadow/usr/lib/x86_64-linux-gnu/" ;;
    esac
  done
  build_rpm sample-busybox arch x86_64 provides /bin/sh install "cp -a $stage/busybox/. \$RPM_BUILD_ROOT/" \
    files '/usr/bin/*'
  build_rpm sample-shadow arch x86_64 requires sample-busybox \
    install "cp -a $stage/shadow/. \$RPM_BUILD_ROOT/" \
    files '/usr/sbin/useradd'$'\n''/usr/sbin/groupadd'$'\n''/usr/lib64/*'$'\n''/usr/lib/x86_64-linux-gnu/*'
}
