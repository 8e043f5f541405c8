#!/usr/bin/env bash
# Installs everything the tests need on Debian 12+ (as root, Python 3.11+) and runs every test.
#   bash scripts/test.sh [pytest arguments]
# The lab's servers (Ceph RGW, MiniStack, nginx, sshd) are started by the tests that need them and
# left running for the next run; `python3 -m mastowizard_lab clean` stops them and removes their state.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/steps.sh
need_root "the test suite"
step "mastowizard: installing the package and its test tools (pip install -e '.[test]')" \
  python3 -m pip install --disable-pip-version-check -e '.[test]'
python3 -m mastowizard_lab install
exec python3 -m pytest "$@"
