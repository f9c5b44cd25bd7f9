#!/usr/bin/env bash
# Installs what tongban-kiosk needs on Debian 12 and creates .venv. Idempotent: a second
# run only checks. Sourced by scripts/demo.sh and scripts/test.sh.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
# System packages: libzbar0 for pyzbar; pcscd, libpcsclite and swig for pyscard (and its build
# where no wheel fits); vsmartcard-vpcd, the virtual PC/SC reader the eMRTD emulator plugs
# into; python3-venv for the virtual environment; libmtdev1 and libgl1 for Kivy;
# libusb-1.0-0 for pyusb (USB receipt printers); espeak-ng (its cmn voice) for spoken prompts;
# mosquitto, the MQTT broker of the fleet tests, benchmark and demo (not started as a service);
# poppler-utils, which the PDF tests read receipts back with (pdftoppm, pdftotext, pdffonts);
# for the unattended kiosk's tests (issue 26): xvfb and xdotool (the real app on an X server,
# keys that must not leave it), nut-server (a real upsd with the dummy-ups driver; not started
# as a service), systemd and udev (systemd-analyze verify of the units, the udev rules);
# chromium, the real headless browser the region's back office page is tested in (Playwright
# drives Debian's build: no browser is downloaded).
APT_PACKAGES=(python3 python3-venv python3-dev build-essential libzbar0 pcscd libpcsclite1
              libpcsclite-dev swig vsmartcard-vpcd libmtdev1 libgl1 libusb-1.0-0 espeak-ng
              mosquitto poppler-utils xvfb xdotool nut-server systemd udev chromium)

missing=()
for pkg in "${APT_PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" \
    || missing+=("$pkg")
done
if [ "${#missing[@]}" -gt 0 ]; then
  SUDO=""
  [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  echo "setup: installing ${missing[*]}" >&2
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends \
    "${missing[@]}" >/dev/null
fi

PYTHON="${PYTHON:-/usr/bin/python3}"
[ -x "$PYTHON" ] || PYTHON=python3
VENV="$ROOT/.venv"
STAMP="$VENV/.installed-$(sha256sum "$ROOT/pyproject.toml" | cut -c1-16)"
if [ ! -f "$STAMP" ]; then
  [ -x "$VENV/bin/python" ] || "$PYTHON" -m venv "$VENV"
  "$VENV/bin/python" -m pip install -q --upgrade pip
  "$VENV/bin/python" -m pip install -q -e "$ROOT[dev]"
  rm -f "$VENV"/.installed-*
  touch "$STAMP"
fi

# The reference tus server (@tus/server + @tus/file-store or @tus/s3-store, MIT) that stands in
# for a handling region's upload endpoint in the tests, benchmarks and `kiosk demo`: Node >=
# 20.19 (Debian 13's nodejs; Debian 12 needs NodeSource's). Re-installed when package-lock.json
# changes.
TUS="$ROOT/rigs/tus-server"
if ! command -v node >/dev/null 2>&1; then
  SUDO=""
  [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  echo "setup: installing nodejs npm" >&2
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends nodejs npm \
    >/dev/null
fi
node -e 'const [a,b]=process.versions.node.split(".").map(Number); process.exit(a>20||(a==20&&b>=19)?0:1)' \
  || { echo "setup: Node.js >= 20.19 is needed for the tus test server (have $(node --version))" >&2; exit 1; }
TUS_STAMP="$TUS/node_modules/.installed-$(sha256sum "$TUS/package-lock.json" | cut -c1-16)"
if [ ! -f "$TUS_STAMP" ]; then
  (cd "$TUS" && npm ci --omit=optional --no-audit --no-fund --loglevel=error >/dev/null)
  touch "$TUS_STAMP"
fi
