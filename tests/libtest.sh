# Shared helpers for treectl's shell integration tests. Source it first thing:
#   . "${TREECTL_SRCDIR:-$(dirname "$0")/..}/tests/libtest.sh"
# Each test gets one temporary directory, printed TAP, and real components: ostree repos
# with GPG-signed commits, an HTTP server on 127.0.0.1, sysroots, treectld.
set -euo pipefail

TREECTL_SRCDIR=${TREECTL_SRCDIR:-$(cd "$(dirname "$0")/.." && pwd)}
TREECTL_BUILDDIR=${TREECTL_BUILDDIR:-$TREECTL_SRCDIR}
export TREECTL_DAEMON=${TREECTL_DAEMON:-$TREECTL_BUILDDIR/treectld}
export PATH="$TREECTL_BUILDDIR:$PATH"
export LC_ALL=C.UTF-8
# Deployment roots are made immutable by ostree; keep test trees removable.
export OSTREE_SYSROOT_DEBUG=mutable-deployments

test_tmpdir=$(mktemp -d "${TMPDIR:-/var/tmp}/treectl-test.XXXXXX")
cd "$test_tmpdir"
_tap_n=0
_bg_pids=()
. "$TREECTL_SRCDIR/tests/libfixtures.sh"

_libtest_cleanup() {
  local rc=$?
  for pid in "${_bg_pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  for pid in "${_bg_pids[@]}"; do wait "$pid" 2>/dev/null || true; done
  if [ -n "${GNUPGHOME:-}" ] && [ -d "${GNUPGHOME}" ]; then
    gpgconf --homedir "$GNUPGHOME" --kill all >/dev/null 2>&1 || true
  fi
  cd /
  if [ "$rc" = 0 ] || [ -z "${TREECTL_TEST_KEEP:-}" ]; then
    chattr -R -i "$test_tmpdir" >/dev/null 2>&1 || true
    rm -rf "$test_tmpdir"
  else
    echo "# kept $test_tmpdir" >&2
  fi
  if [ "$rc" != 0 ]; then
    echo "not ok - test script failed (exit $rc) after $_tap_n passing steps"
  fi
  exit "$rc"
}
trap _libtest_cleanup EXIT

# TAP
ok() { _tap_n=$((_tap_n + 1)); echo "ok $_tap_n - $*"; }
skip_all() { echo "1..0 # SKIP $*"; trap - EXIT; cd /; rm -rf "$test_tmpdir"; exit 0; }
done_testing() { echo "1..$_tap_n"; }
fatal() { echo "error: $*" >&2; exit 1; }

# Assertions
assert_streq() { [ "$1" = "$2" ] || fatal "expected \"$2\", got \"$1\""; }
assert_strneq() { [ "$1" != "$2" ] || fatal "expected something other than \"$2\""; }
assert_file_has_content() {
  grep -q -e "$2" "$1" || { sed -e 's/^/| /' "$1" >&2; fatal "$1 does not match /$2/"; }
}
assert_file_has_content_literal() {
  grep -q -F -e "$2" "$1" || { sed -e 's/^/| /' "$1" >&2; fatal "$1 does not contain \"$2\""; }
}
assert_not_file_has_content() {
  if grep -q -e "$2" "$1"; then sed -e 's/^/| /' "$1" >&2; fatal "$1 matches /$2/"; fi
}
assert_has_file() { [ -f "$1" ] || fatal "missing file $1"; }
assert_not_has_file() { [ ! -e "$1" ] || fatal "unexpected $1"; }
assert_has_dir() { [ -d "$1" ] || fatal "missing directory $1"; }

# run_expect_fail MESSAGE CMD...: CMD must exit non-zero (not 77) and print MESSAGE on stderr.
run_expect_fail() {
  local msg=$1; shift
  local rc=0
  "$@" >"$test_tmpdir/out.txt" 2>"$test_tmpdir/err.txt" || rc=$?
  if [ "$rc" = 0 ] || [ "$rc" = 77 ]; then
    cat "$test_tmpdir/out.txt" "$test_tmpdir/err.txt" >&2
    fatal "expected failure of: $* (exit $rc)"
  fi
  assert_file_has_content_literal "$test_tmpdir/err.txt" "$msg"
}

# run_expect_rc RC CMD...: CMD must exit with RC; output in out.txt / err.txt.
run_expect_rc() {
  local want=$1; shift
  local rc=0
  "$@" >"$test_tmpdir/out.txt" 2>"$test_tmpdir/err.txt" || rc=$?
  if [ "$rc" != "$want" ]; then
    cat "$test_tmpdir/out.txt" "$test_tmpdir/err.txt" >&2
    fatal "expected exit $want from: $* (got $rc)"
  fi
}

# The usual starting point: GPG keys, a served repo with v1 on $TEST_REF, an initialized
# sysroot at $SYSROOT with stateroot $TEST_OS deployed from it.
TEST_OS=testos
TEST_REMOTE=testos
TEST_REF=testos/x86_64/stable
setup_test_sysroot() {
  setup_gpg
  setup_remote_repo
  commit_os "$TEST_REF" 1.0 >/dev/null
  start_httpd "$test_tmpdir/srv"
  SYSROOT="$test_tmpdir/sysroot"
  mkdir "$SYSROOT"
  treectl --sysroot "$SYSROOT" init --os "$TEST_OS" --url "$HTTP_URL/repo" \
    --gpg-key "$test_tmpdir/test-key.asc" --karg rw --karg console=ttyS0 \
    "$TEST_REMOTE:$TEST_REF" >"$test_tmpdir/init.log"
  export SYSROOT
}

# tc ARGS...: treectl against the test sysroot through a private peer daemon.
tc() { treectl --sysroot "$SYSROOT" "$@"; }

# Checks with stock ostree tools.
ostree_status() { ostree admin --sysroot="$SYSROOT" status; }
sysroot_repo() { echo "$SYSROOT/ostree/repo"; }
# deployment_count: number of deployments ostree itself lists.
deployment_count() { ostree admin --sysroot="$SYSROOT" status | grep -c -E '^[* ] +[^ ]+ [0-9a-f]{64}\.[0-9]+'; }
# default_checksum: checksum of the first (default) deployment, per ostree.
default_checksum() {
  ostree admin --sysroot="$SYSROOT" status | grep -m1 -oE '[0-9a-f]{64}\.[0-9]+$' | cut -d. -f1
}
# json_status: treectl status --json
json_status() { tc status --json; }
# newest BLS entry's options line
bls_options() { grep -h '^options' "$SYSROOT"/boot/loader/entries/ostree-"${1:-2}"-*.conf; }

# --- host test helpers ---
# deployment_list: "CHECKSUM.SERIAL" of each deployment in boot order, per stock ostree.
deployment_list() {
  ostree admin --sysroot="$SYSROOT" status | grep -oE '^[* ] +[^ ]+ [0-9a-f]{64}\.[0-9]+' | grep -oE '[0-9a-f]{64}\.[0-9]+$'
}
# deploy_dir CHECKSUM.SERIAL: the deployment's root directory.
deploy_dir() { echo "$SYSROOT/ostree/deploy/${OS_NAME:-$TEST_OS}/deploy/$1"; }
# default_deploy_dir: root directory of the default (first) deployment.
default_deploy_dir() { deploy_dir "$(deployment_list | sed -n 1p)"; }
# origin_file CHECKSUM.SERIAL: the deployment's origin file.
origin_file() { echo "$SYSROOT/ostree/deploy/${OS_NAME:-$TEST_OS}/deploy/$1.origin"; }
# json_dep INDEX JQ-FIELD: one field of deployment INDEX from treectl status --json.
json_dep() { tc status --json | jq -r ".deployments[$1].$2"; }
# bls_default_entry: the BLS entry with the highest "version" (the default boot entry).
bls_default_entry() {
  local f best="" bestv=-1 v
  for f in "$SYSROOT"/boot/loader/entries/ostree-*.conf; do
    [ -e "$f" ] || continue
    v=$(awk '$1 == "version" {print $2}' "$f")
    if [ "$v" -gt "$bestv" ]; then bestv=$v; best=$f; fi
  done
  [ -n "$best" ] || fatal "no BLS entries in $SYSROOT/boot/loader/entries"
  echo "$best"
}
# bls_entry_count: number of BLS entries.
bls_entry_count() { ls "$SYSROOT"/boot/loader/entries/ostree-*.conf 2>/dev/null | wc -l; }
# repo_content_objects REPO: paths (relative to REPO/objects) of its content objects, sorted.
repo_content_objects() { (cd "$1/objects" && find . -name '*.file*' | sort); }
# assert_dir_empty DIR: DIR exists and has no entries at all.
assert_dir_empty() {
  [ -d "$1" ] || fatal "missing directory $1"
  if [ -n "$(ls -A "$1")" ]; then ls -A "$1" >&2; fatal "$1 is not empty"; fi
}
# bls_entry_target ENTRY: the deployment directory (canonical path) ENTRY's ostree= boots.
bls_entry_target() {
  local arg
  arg=$(sed -n 's/^options.* ostree=\([^ ]*\).*/\1/p' "$1")
  [ -n "$arg" ] || fatal "no ostree= argument in $1"
  readlink -f "$SYSROOT$arg"
}
