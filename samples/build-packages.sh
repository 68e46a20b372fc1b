#!/bin/bash
# Builds the sample OS packages (rpmbuild) into DIR and makes DIR an rpm-md repository
# (createrepo_c). RELEASE_VERSION sets the version of sample-release; run again on the same
# DIR with another value to publish an update of that one package.
#   samples/build-packages.sh DIR [RELEASE_VERSION]
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
RPM_REPO_DIR=$(mkdir -p "$1" && cd "$1" && pwd)
test_tmpdir=$(mktemp -d)
trap 'rm -rf "$test_tmpdir"' EXIT
. "$top/tests/libtest-rpm.sh"
rm -f "$RPM_REPO_DIR"/sample-release-*.rpm
if [ -d "$RPM_REPO_DIR/repodata" ]; then
  # An update: only the release package changes, the others stay byte for byte.
  build_release_package "${2:-1}"
else
  build_base_packages 6.1.0-sample "${2:-1}"
  build_shell_packages
  # Not in the treefile: the demo layers it on a host with treectl install.
  build_rpm sample-extras summary "an extra tool to layer on the sample OS"
fi
make_repo
