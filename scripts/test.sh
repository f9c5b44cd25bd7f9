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
# Named tests run in one process as asked; the whole suite (options only) runs in two lanes.
for arg in "$@"; do
  if [[ "$arg" != -* ]]; then echo "== pytest"; exec "$BIN/pytest" "$@"; fi
done
echo "== pytest (two lanes: scripts/pytest_lanes.sh)"; exec bash scripts/pytest_lanes.sh "$BIN" "$@"
