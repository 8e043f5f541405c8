#!/usr/bin/env bash
# Installs everything the tests need on a fresh Debian machine and runs every test.
#   bash scripts/test.sh [pytest arguments]
# The lab's servers (Ceph RGW, MiniStack, nginx) are started by the tests that need them and
# left running for the next run; `python3 -m mastowizard_lab stop all` stops them.
set -euo pipefail
cd "$(dirname "$0")/.."
python3 -m pip install -q --disable-pip-version-check -e '.[test]'
python3 -m mastowizard_lab install
exec python3 -m pytest "$@"
