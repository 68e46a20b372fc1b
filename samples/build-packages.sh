#!/bin/bash
# Builds the sample OS packages (rpmbuild) into DIR and makes DIR an rpm-md repository
# (createrepo_c). RELEASE_VERSION sets the version of sample-release, so a second run with
# another value publishes an update.
#   samples/build-packages.sh DIR [RELEASE_VERSION]
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
RPM_REPO_DIR=$(mkdir -p "$1" && cd "$1" && pwd)
test_tmpdir=$(mktemp -d)
trap 'rm -rf "$test_tmpdir"' EXIT
. "$top/tests/libtest-rpm.sh"
rm -f "$RPM_REPO_DIR"/sample-release-*.rpm
build_base_packages 6.1.0-sample "${2:-1}"
build_shell_packages
make_repo
