#!/usr/bin/env bash
# The whole suite in two lanes at once, one per core: the UI tests (tests/ui, Kivy drawing
# with llvmpipe) beside everything else (pcscd, loopback servers, subprocess CLIs). The UI
# lane runs its files in two pytest processes one after the other, so no process builds more
# than about 150 kiosks: one process for all of them held 12.6 GB by the end. The lanes share
# nothing fixed: only the other lane uses pcscd's one socket, and every server takes a free
# port. Arguments go to every pytest; the exit status is the first failing lane's.
# Usage: scripts/pytest_lanes.sh BIN_DIR [pytest options...]
set -uo pipefail
BIN="$1"; shift
logs="$(mktemp -d)"
ui_files=(tests/ui/test_*.py)
half=$(( (${#ui_files[@]} + 1) / 2 ))
(
  "$BIN/pytest" "$@" "${ui_files[@]:0:$half}" >"$logs/ui-1.log" 2>&1; first=$?
  "$BIN/pytest" "$@" "${ui_files[@]:$half}" >"$logs/ui-2.log" 2>&1; second=$?
  [ "$first" -ne 0 ] && exit "$first"; exit "$second"
) &
ui_lane=$!
"$BIN/pytest" "$@" --ignore=tests/ui; rest=$?
wait "$ui_lane"; ui=$?
for part in 1 2; do echo "== pytest, UI lane part $part"; cat "$logs/ui-$part.log"; done
rm -rf "$logs"
echo "== lanes: rest exit $rest, UI exit $ui"
[ "$rest" -ne 0 ] && exit "$rest"
exit "$ui"
