#!/usr/bin/env bash
# Removes tongban-kiosk's program, units and system files:
#
#   sudo bash deploy/uninstall.sh            (or /opt/tongban-kiosk/current/app/deploy/uninstall.sh)
#
# Keeps what belongs to the hall and its citizens: /etc/tongban-kiosk (settings, keys),
# /var/lib/tongban-kiosk (data, the outbox with packages not yet delivered, the device keys
# the regions know this kiosk by), /var/log/tongban-kiosk, and the kiosk user that owns
# them. Installing again picks them up. Removing those too is a deliberate, separate step
# (docs/install.md), never this command's.
set -euo pipefail

REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
source "$REPO/deploy/lib.sh"

while [ $# -gt 0 ]; do
  case "$1" in
    --root) ROOT="$(cd "${2:?--root DIR}" && pwd)"; shift 2 ;;
    -h|--help) echo "usage: sudo bash deploy/uninstall.sh [--root DIR]"; exit 0 ;;
    *) die "未知参数 $1" "unknown argument $1" ;;
  esac
done
[ "${ROOT:-/}" = / ] && ROOT=""
[ "$(id -u)" -eq 0 ] || die "请以 root 身份运行（sudo）" "run as root (sudo)"

if systemd_running; then
  systemctl stop "${UNITS[@]}" 2>/dev/null || true
fi
for unit in "${UNITS[@]}"; do
  [ -e "$ROOT/etc/systemd/system/$unit" ] || continue
  systemctl --root="${ROOT:-/}" --quiet disable "$unit" 2>/dev/null || true
  rm -f "$ROOT/etc/systemd/system/$unit"
done
rm -f "$ROOT/etc/udev/rules.d/$UDEV_RULES" "$ROOT/etc/X11/xorg.conf.d/$XORG_CONF" \
      "$ROOT/etc/pam.d/tongban-kiosk" "$ROOT/etc/polkit-1/rules.d/$POLKIT_RULE"
if systemd_running; then
  systemctl daemon-reload
  udevadm control --reload-rules || true
fi
say "已卸载；保留 $ETC、$STATE、$LOGS 与用户 $KIOSK_USER" \
    "uninstalled; kept $ETC, $STATE, $LOGS and the user $KIOSK_USER"
# Last, and exit at once: this script may be running from under $PREFIX.
rm -rf "$ROOT$PREFIX"
exit 0
