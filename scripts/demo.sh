#!/usr/bin/env bash
# The quick start: installs mastowizard and its demo lab on Debian 12+ (as root, Python 3.11+), starts
# the lab on 127.0.0.1 and opens the wizard against it.   bash scripts/demo.sh
# `mastowizard demo --down` (or `python3 -m screens.launch demo --down`) stops the lab and removes
# what it left on the machine.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/steps.sh
need_root "the demo"
step "mastowizard: installing the package (pip install -e .)" \
  python3 -m pip install --disable-pip-version-check -e .
exec python3 -m screens.launch demo "$@"
