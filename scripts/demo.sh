#!/usr/bin/env bash
# Set up (first run) and start the kiosk demo on emulated devices. Extra arguments go to
# `kiosk demo`, e.g.: bash scripts/demo.sh --headless --matter RS-YLZY-007 --out out/
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
source "$ROOT/scripts/setup.sh"
cd "$ROOT"
exec "$ROOT/.venv/bin/kiosk" demo "$@"
