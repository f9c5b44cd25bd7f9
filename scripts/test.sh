#!/usr/bin/env bash
# Set up (first run) and run every check: ruff, mypy, import-linter contracts, pytest.
# Extra arguments go to pytest.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
source "$ROOT/scripts/setup.sh"
cd "$ROOT"
BIN="$ROOT/.venv/bin"
echo "== ruff"; "$BIN/ruff" check kiosk drivers screens fleetops intake rigs tests benchmarks scripts assets/demo
echo "== mypy"; "$BIN/mypy"
echo "== import-linter"; "$BIN/lint-imports"
echo "== pytest"; "$BIN/pytest" "$@"
