#!/bin/bash
# The whole test suite from a checkout, as root on Debian 12: installs dependencies, builds
# with AddressSanitizer and UndefinedBehaviorSanitizer in _build/, runs `make check`, then
# `make distcheck` (a release tarball that builds and passes its tests). Prints
# "N passed, N failed" last.
set -euo pipefail
cd "$(dirname "$0")/.."
top=$(pwd)

bash ci/install-deps.sh
NOCONFIGURE=1 ./autogen.sh >/dev/null
rm -rf _build && mkdir _build && cd _build
../configure --prefix=/usr --sysconfdir=/etc --localstatedir=/var --enable-sanitizers >/dev/null
make -j"$(nproc)" >/dev/null

# GLib and libostree keep process-lifetime allocations; leak reports would drown real errors.
export ASAN_OPTIONS=detect_leaks=0:abort_on_error=1
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1

rc=0
make -j"$(nproc)" check || rc=$?
# count REGEX: test results (from automake's .trs files) matching REGEX.
count() { find . -name '*.trs' -exec cat {} + 2>/dev/null | grep -c -E "^:test-result: ($1)" || true; }
pass=$(count PASS)
skipped=$(count SKIP)
failed=$(count 'FAIL|ERROR|XPASS')
if [ "$rc" != 0 ]; then
  cat test-suite.log || true
  echo "$pass passed, $failed failed, $skipped skipped"
  exit 1
fi

if [ "${TREECTL_SKIP_DISTCHECK:-}" != 1 ]; then
  make distcheck DISTCHECK_CONFIGURE_FLAGS="--enable-sanitizers" >distcheck.log 2>&1 || {
    tail -100 distcheck.log
    echo "$pass passed, $((failed + 1)) failed, $skipped skipped (make distcheck failed)"
    exit 1
  }
  echo "make distcheck: ok"
fi
cd "$top"
echo "$pass passed, $failed failed, $skipped skipped"
