#!/usr/bin/env bash
# Installs (or upgrades) tongban-kiosk on a Debian 12 kiosk PC from this repository:
#
#   sudo bash deploy/install.sh
#
# /opt/tongban-kiosk/releases/<release>/{app,venv}   the code and its own virtual environment
# /opt/tongban-kiosk/current -> releases/<release>   what the units run (switched atomically)
# /etc/tongban-kiosk/            settings.toml, keys/   root:kiosk 0750, files 0640
# /var/lib/tongban-kiosk/        data, outbox, device keys   kiosk 0700 (files 0600)
# /var/log/tongban-kiosk/        logs                        kiosk 0700
# a system user `kiosk` (groups dialout lp video audio plugdev), udev rules, an X server on
# tty1 with no window manager and automatic login, the app's systemd units.
#
# Run again from a newer checkout to upgrade: settings, data, keys, the outbox and logs stay;
# the previous release stays beside the new one (--rollback goes back to it). docs/install.md.
set -euo pipefail

REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
source "$REPO/deploy/lib.sh"

usage() {
  cat <<EOF
usage: sudo bash deploy/install.sh [--root DIR] [--files-only] [--wheelhouse DIR]
                                   [--no-restart] [--rollback]
  --root DIR        install into the system mounted at DIR (with --files-only), default /
  --files-only      no Debian packages and no Python environment: files, user, folders,
                    unit links only (the tests; a system image built elsewhere)
  --wheelhouse DIR  Python packages from DIR only, no index, no compiler (offline halls:
                    pip wheel -w DIR . setuptools wheel, on a Debian 12 with the network)
  --no-restart      upgrade without restarting the running app (the nightly restart picks
                    the new release up)
  --rollback        make the previous release current again (and restart the app)
EOF
}

FILES_ONLY=0 WHEELHOUSE="" RESTART=1 ROLLBACK=0
while [ $# -gt 0 ]; do
  case "$1" in
    --root) ROOT="$(cd "${2:?--root DIR}" && pwd)"; shift 2 ;;
    --files-only) FILES_ONLY=1; shift ;;
    --wheelhouse) WHEELHOUSE="$(cd "${2:?--wheelhouse DIR}" && pwd)"; shift 2 ;;
    --no-restart) RESTART=0; shift ;;
    --rollback) ROLLBACK=1; shift ;;
    -h|--help) usage; exit 0 ;;
    *) usage >&2; die "未知参数 $1" "unknown argument $1" ;;
  esac
done
[ "${ROOT:-/}" = / ] && ROOT=""   # paths below are "$ROOT/etc/...": empty for the live system

[ "$(id -u)" -eq 0 ] || die "请以 root 身份运行（sudo）" "run as root (sudo)"

if [ "$ROLLBACK" -eq 1 ]; then
  rollback
  exit 0
fi

if [ -n "$ROOT" ] && [ "$FILES_ONLY" -eq 0 ]; then
  die "--root 只能与 --files-only 一起使用；完整安装请在目标系统内运行（chroot）" \
      "--root needs --files-only; for a full install run this inside the target (chroot)"
fi

T0=$SECONDS
[ "$FILES_ONLY" -eq 1 ] || install_debian_packages
ensure_user
RELEASE="$(release_name)"
UPGRADE=0
[ -L "$ROOT$PREFIX/current" ] && UPGRADE=1
stage_release "$RELEASE"
if [ "$FILES_ONLY" -eq 0 ]; then
  build_venv "$RELEASE"
  remove_build_packages
fi
make_folders
write_settings_once
install_system_files
switch_current "$RELEASE"
prune_releases
enable_units
if [ "$FILES_ONLY" -eq 0 ]; then
  check_settings
  reload_live_system "$UPGRADE"
fi
say "已安装 $RELEASE（$((SECONDS - T0)) 秒）" "installed $RELEASE in $((SECONDS - T0)) s"
if [ "$UPGRADE" -eq 0 ]; then
  cat <<EOF
Next: edit $ETC/settings.toml (devices, routes, [fleet]); check it with
  sudo -u kiosk $PREFIX/current/venv/bin/kiosk config validate $ETC/settings.toml
then reboot: the kiosk starts on tty1 by itself.
EOF
fi
