#!/usr/bin/env bash
# Installs mastowizard and its demo lab on a fresh Debian machine (as root), then launches the wizard
# against it: bash scripts/demo.sh
set -euo pipefail
cd "$(dirname "$0")/.."
python3 -m pip install -q --disable-pip-version-check -e .
python3 -m mastowizard_lab install
exec python3 -m screens.launch demo
