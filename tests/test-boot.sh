#!/bin/bash
# The deployments treectl writes boot: a real Debian kernel and an initramfs built around the
# stock ostree-prepare-root boot each one under QEMU (TCG, direct kernel boot with the
# kernel, initrd and options of the default BLS entry). Checks init, upgrade and rollback.
. "${TREECTL_SRCDIR:-$(dirname "$0")/..}/tests/libtest.sh"

command -v qemu-system-x86_64 >/dev/null || skip_all "qemu-system-x86_64 not installed (ci/install-deps.sh installs it)"
[ -x /usr/lib/ostree/ostree-prepare-root ] || skip_all "ostree-prepare-root not installed (package ostree-boot)"
KVER=$(ls /usr/lib/modules 2>/dev/null | sort -V | tail -n 1)
[ -n "$KVER" ] && [ -r "/boot/vmlinuz-$KVER" ] || skip_all "no kernel in /boot (package linux-image-amd64)"
BUSYBOX=$(command -v busybox)

# initramfs: busybox, the ext4/virtio modules, and the real ostree-prepare-root
I="$test_tmpdir/initramfs"
mkdir -p "$I"/{bin,dev,proc,sys,run,sysroot,lib/modules,usr/lib/ostree}
cp "$BUSYBOX" "$I/bin/busybox"
for a in sh mount insmod switch_root sleep cat mkdir touch; do ln -s busybox "$I/bin/$a"; done
for m in virtio_pci virtio_blk crc32c_generic ext4; do
  modprobe -S "$KVER" --show-depends "$m" | awk '$1 == "insmod" {print $2}'
done | awk '!seen[$0]++' > modules.txt
while read -r ko; do
  cp "$ko" "$I/lib/modules/"
  basename "$ko" >> "$I/modules.order"
done < modules.txt
cp /usr/lib/ostree/ostree-prepare-root "$I/usr/lib/ostree/"
for lib in $(ldd /usr/lib/ostree/ostree-prepare-root | grep -oE '/[^ ]+\.so[^ ]*'); do
  mkdir -p "$I$(dirname "$lib")"
  cp -L "$lib" "$I$lib"
done
cat > "$I/init" <<'INIT'
#!/bin/sh
export PATH=/bin
mount -t proc proc /proc; mount -t sysfs sysfs /sys; mount -t devtmpfs devtmpfs /dev
mount -t tmpfs -o mode=0755 tmpfs /run
for m in $(cat /modules.order); do insmod /lib/modules/$m 2>/dev/null; done
i=0; while [ ! -b /dev/vda ] && [ $i -lt 100 ]; do sleep 0.1; i=$((i+1)); done
mount -t ext4 -o rw /dev/vda /sysroot || echo "INITRD-FAIL mount"
mkdir -p /run/ostree && touch /run/ostree/initramfs-mount-var
/usr/lib/ostree/ostree-prepare-root /sysroot || echo "INITRD-FAIL prepare-root"
for d in proc sys dev run; do mount --move /$d /sysroot/$d; done
exec switch_root /sysroot /sbin/init
INIT
chmod 755 "$I/init"
(cd "$I" && find . | cpio -o -H newc --quiet | gzip -1) > "$test_tmpdir/initramfs.img"

# make_boot_tree DIR VERSION: busybox userland whose init reports what booted, then powers off.
make_boot_tree() {
  local R=$1 version=$2
  rm -rf "$R"
  mkdir -p "$R"/usr/{bin,sbin,lib/modules/$KVER,lib/treectl,etc} "$R"/{sysroot,proc,sys,dev,run,tmp,var,boot}
  ln -s usr/bin "$R/bin"; ln -s usr/sbin "$R/sbin"; ln -s usr/lib "$R/lib"
  ln -s sysroot/ostree "$R/ostree"
  cp "$BUSYBOX" "$R/usr/bin/busybox"
  cp "/boot/vmlinuz-$KVER" "$R/usr/lib/modules/$KVER/vmlinuz"
  cp "$test_tmpdir/initramfs.img" "$R/usr/lib/modules/$KVER/initramfs.img"
  echo "$version" > "$R/usr/lib/treectl/version"
  printf 'NAME=TreeCtlBoot\nID=treectlboot\nVERSION_ID=%s\nPRETTY_NAME="TreeCtl Boot %s"\n' \
    "$version" "$version" > "$R/usr/lib/os-release"
  ln -s ../lib/os-release "$R/usr/etc/os-release"
  cat > "$R/usr/sbin/init" <<'INIT'
#!/usr/bin/busybox sh
B=/usr/bin/busybox
karg=$($B sed -n 's/.*ostree=\([^ ]*\).*/\1/p' /proc/cmdline)
dep=$($B basename "$($B readlink -f /sysroot$karg)")
booted=no; [ -e /run/ostree-booted ] && booted=yes
echo "TREECTL-BOOTED deployment=$dep version=$($B cat /usr/lib/treectl/version) ostree-booted=$booted"
$B date > /var/treectl-last-boot 2>/dev/null && echo "TREECTL-VAR-WRITABLE"
$B sync
$B poweroff -f
INIT
  chmod 755 "$R/usr/sbin/init"
}

# boot_default LABEL: boot the default BLS entry; prints the marker line.
boot_default() {
  local label=$1 entry="" best=-1 v f
  for f in "$SYSROOT"/boot/loader/entries/*.conf; do
    v=$(awk '$1 == "version" {print $2}' "$f")
    if [ "$v" -gt "$best" ]; then best=$v; entry=$f; fi
  done
  local linux initrd options
  linux=$(awk '$1 == "linux" {print $2}' "$entry")
  initrd=$(awk '$1 == "initrd" {print $2}' "$entry")
  options=$(sed -n 's/^options //p' "$entry")
  rm -f disk.raw
  mkfs.ext4 -q -F -L root -d "$SYSROOT" disk.raw 512M
  timeout 180 qemu-system-x86_64 -accel tcg -smp 2 -m 512 -nodefaults -display none -no-reboot \
    -serial "file:serial-$label.log" -kernel "$SYSROOT/boot$linux" -initrd "$SYSROOT/boot$initrd" \
    -append "$options quiet" -drive file=disk.raw,format=raw,if=virtio >/dev/null 2>&1 || true
  grep -a 'TREECTL-BOOTED' "serial-$label.log" || { tail -n 30 "serial-$label.log" >&2; fatal "$label did not boot"; }
}

setup_gpg
setup_remote_repo
publish() {
  make_boot_tree "$test_tmpdir/tree" "$1"
  ostree --repo="$SRV_REPO" commit --bootable -b "$TEST_REF" --add-metadata-string=version="$1" \
    --gpg-sign="$TEST_GPG_KEYID" --gpg-homedir="$GNUPGHOME" --tree=dir="$test_tmpdir/tree" >/dev/null
  ostree --repo="$SRV_REPO" rev-parse "$TEST_REF"
}
v1=$(publish 1.0)
start_httpd "$test_tmpdir/srv"
SYSROOT="$test_tmpdir/sysroot"
mkdir "$SYSROOT"
treectl --sysroot "$SYSROOT" init --os "$TEST_OS" --url "$HTTP_URL/repo" \
  --gpg-key "$test_tmpdir/test-key.asc" --karg rw --karg console=ttyS0 --karg panic=-1 \
  "$TEST_REMOTE:$TEST_REF" > init.log

boot_default init > marker.txt
assert_file_has_content marker.txt "deployment=$v1\.0 version=1.0 ostree-booted=yes"
assert_file_has_content serial-init.log "TREECTL-VAR-WRITABLE"
ok "the deployment written by treectl init boots with the stock ostree-prepare-root"

v2=$(publish 2.0)
tc upgrade > upgrade.log
boot_default upgrade > marker.txt
assert_file_has_content marker.txt "deployment=$v2\.0 version=2.0 ostree-booted=yes"
ok "after treectl upgrade the new deployment boots"

tc rollback > rollback.log
boot_default rollback > marker.txt
assert_file_has_content marker.txt "deployment=$v1\.0 version=1.0 ostree-booted=yes"
ok "after treectl rollback the previous deployment boots"

done_testing
