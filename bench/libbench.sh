# Shared by the benchmarks: an optimized build, a scratch directory, timing with peak RSS,
# and a synthetic package set of NPKGS RPMs holding NFILES files (bench/gen-packages.py)
# with a treefile c/bench.yaml that composes them with the sample base packages.
#   . bench/libbench.sh [BUILDDIR]
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
if [ -n "${1:-}" ]; then
  builddir=$(cd "$1" && pwd)
else
  builddir="$top/_build-bench"
  if [ ! -f "$builddir/Makefile" ]; then
    [ -x "$top/configure" ] || (cd "$top" && NOCONFIGURE=1 ./autogen.sh >/dev/null)
    mkdir -p "$builddir"
    (cd "$builddir" && "$top/configure" --prefix=/usr --sysconfdir=/etc --localstatedir=/var \
      CFLAGS="-O2 -g" >/dev/null)
  fi
  make -C "$builddir" -j"$(nproc)" >/dev/null
fi
NPKGS=${NPKGS:-300}
NFILES=${NFILES:-30000}
export PATH="$builddir:$PATH" TREECTL_DAEMON="$builddir/treectld"
work=$(mktemp -d "${TMPDIR:-/var/tmp}/treectl-bench.XXXXXX")
[ -n "${BENCH_KEEP:-}" ] || trap 'chattr -R -i "$work" >/dev/null 2>&1 || true; rm -rf "$work"' EXIT
test_tmpdir=$work
cd "$work"
# ext4 without a journal skips inodes freed in the last minutes when it allocates new ones,
# so the thousands of files rpmbuild creates and removes would slow whatever is timed next
# on the same filesystem. Build on tmpfs when there is one. (For the same reason, leave a
# few minutes between two runs: each removes its scratch directory when it ends.)
if [ -d /dev/shm ] && [ -w /dev/shm ]; then
  RPMBUILD_TOPDIR=$(mktemp -d /dev/shm/treectl-bench-rpmbuild.XXXXXX)
  [ -n "${BENCH_KEEP:-}" ] || trap 'chattr -R -i "$work" >/dev/null 2>&1 || true; rm -rf "$work" "$RPMBUILD_TOPDIR"' EXIT
fi
. "$top/tests/libtest-rpm.sh"

# now_s: seconds since the epoch with nanoseconds
now_s() { date +%s.%N; }
# timed VAR CMD...: run CMD, store its wall time in VAR, and its peak RSS (KiB) in VAR_rss.
timed() {
  local var=$1; shift
  local t0 t1
  t0=$(now_s)
  /usr/bin/time -f '%M' -o "$work/rss" "$@" > "$work/$var.log" 2>&1 || { cat "$work/$var.log"; exit 1; }
  t1=$(now_s)
  printf -v "$var" '%.2f' "$(echo "$t1 - $t0" | bc)"
  printf -v "${var}_rss" '%s' "$(cat "$work/rss")"
}

# ratio A B: A / B with three decimals
ratio() { echo "scale=3; $1 / $2" | bc; }

echo "Generating $NPKGS packages with $NFILES files..."
python3 "$top/bench/gen-packages.py" "$work/src" "$NPKGS" "$NFILES" 42
build_base_packages
for i in $(seq -f '%03g' 0 $((NPKGS - 1))); do
  build_rpm "bench-pkg$i" install "cp -a $work/src/pkg$i/. \$RPM_BUILD_ROOT/" files "/usr/share/bench-pkg$i"
done
make_repo
pkgs=$(cd "$RPM_REPO_DIR" && ls bench-pkg*.rpm | sed 's/-1.0-1.noarch.rpm//' | tr '\n' ' ')
mkdir c
write_repo_file c/bench.repo bench "file://$RPM_REPO_DIR"
printf 'ref: bench/x86_64/os\nrepos: [bench]\npackages:\n  - sample-filesystem\n  - sample-release\n  - sample-kernel\n' > c/bench.yaml
for p in $pkgs; do echo "  - $p" >> c/bench.yaml; done
