#!/usr/bin/env bash
# The install command on a fresh Debian 12, end to end, in a chroot (a chroot has no
# systemd as PID 1: the installer must not need one). As root:
#
#   bash deploy/chroot-test.sh [--base DIR] [--pip-cache DIR] [--keep]
#
# debootstrap (minbase bookworm; --base DIR copies a debootstrapped tree instead), then
# deploy/install.sh inside it, then checks: systemd-analyze verify of every unit, the
# kiosk user runs `kiosk config validate` on the written settings and opens Kivy offscreen,
# modes and owners, PAM modules present, an upgrade that keeps settings and data, an
# uninstall that keeps them too. Prints one JSON line of timings (seconds). Exit 1 on the
# first failed check. Slow (minutes, network): not in the default pytest run.
set -euo pipefail

REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
source "$REPO/deploy/lib.sh"
MIRROR="${DEBIAN_MIRROR:-http://deb.debian.org/debian}"
BASE="" PIP_CACHE="" KEEP=0
while [ $# -gt 0 ]; do
  case "$1" in
    --base) BASE="$2"; shift 2 ;;
    --pip-cache) PIP_CACHE="$(mkdir -p "$2" && cd "$2" && pwd)"; shift 2 ;;
    --keep) KEEP=1; shift ;;
    *) die "未知参数 $1" "unknown argument $1" ;;
  esac
done
[ "$(id -u)" -eq 0 ] || die "请以 root 身份运行" "run as root"
command -v debootstrap >/dev/null || [ -n "$BASE" ] \
  || die "缺少 debootstrap（apt-get install debootstrap）" "debootstrap missing"

DIR="$(mktemp -d /var/tmp/tongban-chroot.XXXXXX)"
cleanup() {
  for m in root/.cache/pip sys proc dev; do
    mountpoint -q "$DIR/$m" 2>/dev/null && umount -R "$DIR/$m"
  done
  [ "$KEEP" -eq 1 ] && echo "kept $DIR" >&2 || rm -rf "$DIR"
}
trap cleanup EXIT
fail() { echo "chroot-test: FAILED: $*" >&2; exit 1; }
# pip's certificate bundle and proxy, where this machine reaches PyPI through them.
PASS_ENV=()
for name in PIP_INDEX_URL PIP_DEFAULT_TIMEOUT http_proxy https_proxy no_proxy; do
  [ -n "${!name:-}" ] && PASS_ENV+=("$name=${!name}")
done
in_chroot() {
  chroot "$DIR" env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin HOME=/root LANG=C.UTF-8 \
    "${PASS_ENV[@]}" "$@"
}
timed() {   # NAME COMMAND...: seconds into TIMES
  local t0=$SECONDS
  "${@:2}" || fail "$1"
  TIMES+=("\"$1_s\": $((SECONDS - t0))")
}
TIMES=()

if [ -n "$BASE" ]; then
  timed base cp -a "$BASE/." "$DIR/"
else
  timed debootstrap debootstrap --variant=minbase bookworm "$DIR" "$MIRROR" >/dev/null
fi
mount --rbind /dev "$DIR/dev" && mount --make-rslave "$DIR/dev"
mount -t proc proc "$DIR/proc"
mount -t sysfs sysfs "$DIR/sys"
cp /etc/resolv.conf "$DIR/etc/resolv.conf"
if [ -n "${PIP_CERT:-}" ]; then
  cp "$PIP_CERT" "$DIR/root/pip-cert.pem" && PASS_ENV+=("PIP_CERT=/root/pip-cert.pem")
fi
if [ -n "$PIP_CACHE" ]; then
  mkdir -p "$DIR/root/.cache/pip" && mount --bind "$PIP_CACHE" "$DIR/root/.cache/pip"
fi
mkdir -p "$DIR/root/src"
tar -C "$REPO" --exclude=__pycache__ --exclude=node_modules -cf - "${RELEASE_ITEMS[@]}" \
  | tar -C "$DIR/root/src" -xf -

to_stderr() { "$@" >&2; }    # stdout is for the JSON line
timed install to_stderr in_chroot bash /root/src/deploy/install.sh

verify_units() {
  local out
  out="$(cd "$DIR/etc/systemd/system" \
         && in_chroot systemd-analyze verify --man=no "${UNITS[@]/#//etc/systemd/system/}" 2>&1)" \
    || { echo "$out" >&2; return 1; }
  [ -z "$out" ] || { echo "$out" >&2; return 1; }
}
timed verify verify_units

check_installed() {
  local kuid kgid
  kuid="$(in_chroot id -u kiosk)"; kgid="$(in_chroot id -g kiosk)"
  for want in "0 $kgid 750 $ETC" "0 $kgid 640 $ETC/settings.toml" "$kuid $kgid 700 $STATE" \
              "$kuid $kgid 700 $LOGS" "0 0 644 /etc/systemd/system/tongban-kiosk.service" \
              "0 0 644 /etc/udev/rules.d/$UDEV_RULES" "0 0 755 $PREFIX/current/venv/bin/kiosk"; do
    set -- $want
    [ "$(stat -L -c '%u %g %a' "$DIR$4")" = "$1 $2 $3" ] \
      || fail "$4 is $(stat -L -c '%u %g %a' "$DIR$4"), want $1 $2 $3"
  done
  [ -z "$(find "$DIR$PREFIX/" -perm /022 ! -type l | head -1)" ] || fail "writable by others in $PREFIX"
  in_chroot id -nG kiosk | tr ' ' '\n' | sort | tr '\n' ' ' | grep -q "audio dialout kiosk lp plugdev video" \
    || fail "kiosk's groups: $(in_chroot id -nG kiosk)"
  [ "$(readlink "$DIR/etc/systemd/system/default.target")" = /lib/systemd/system/graphical.target ] \
    || fail "default target"
  for unit in "${ENABLED[@]}"; do
    ls "$DIR"/etc/systemd/system/*.wants/"$unit" >/dev/null || fail "$unit not enabled"
  done
  local module
  for module in $(awk '!/^#/ && NF { print $3 }' "$DIR/etc/pam.d/tongban-kiosk"); do
    ls "$DIR"/lib/*/security/"$module" >/dev/null 2>&1 || fail "PAM module $module missing"
  done
  in_chroot runuser -u kiosk -- "$PREFIX/current/venv/bin/kiosk" config validate \
    "$ETC/settings.toml" >/dev/null || fail "kiosk config validate"
  in_chroot runuser -u kiosk -- env HOME="$STATE" KIVY_HOME="$STATE/kivy" \
    SDL_VIDEODRIVER=offscreen KIVY_NO_ARGS=1 KIVY_LOG_MODE=PYTHON \
    "$PREFIX/current/venv/bin/python" -c \
    "from kivy.core.window import Window; assert Window is not None; \
from screens.paused import page_lines; print(page_lines(__import__('pathlib').Path('$ETC/settings.toml'))[0])" \
    | grep -q 暂停服务 || fail "Kivy window (offscreen) as the kiosk user"
}
timed checks check_installed

# Upgrade: settings edited by the hall and data written by the app survive it.
echo "# edited by the hall" >> "$DIR$ETC/settings.toml"
in_chroot runuser -u kiosk -- sh -c "mkdir -p $STATE/outbox && echo sealed > $STATE/outbox/p.tbk"
before="$(sha256sum "$DIR$ETC/settings.toml" "$DIR$STATE/outbox/p.tbk" | cut -c1-64)"
upgrade() { in_chroot bash /root/src/deploy/install.sh 2>&1 | tee "$DIR/root/upgrade.log" >&2; }
timed upgrade upgrade
[ "$(ls "$DIR$PREFIX/releases" | wc -l)" -eq 2 ] || fail "two releases after the upgrade"
! grep -q "installing build-essential" "$DIR/root/upgrade.log" \
  || fail "the upgrade built pyscard again (the kept wheel was not used)"
[ "$(sha256sum "$DIR$ETC/settings.toml" "$DIR$STATE/outbox/p.tbk" | cut -c1-64)" = "$before" ] \
  || fail "upgrade changed settings or data"
timed verify_after_upgrade verify_units

timed uninstall to_stderr in_chroot bash "$PREFIX/current/app/deploy/uninstall.sh"
[ ! -e "$DIR$PREFIX" ] && [ ! -e "$DIR/etc/systemd/system/tongban-kiosk.service" ] \
  || fail "uninstall left the program"
[ "$(sha256sum "$DIR$ETC/settings.toml" "$DIR$STATE/outbox/p.tbk" | cut -c1-64)" = "$before" ] \
  || fail "uninstall removed settings or data"

size="$(du -sxm "$DIR" | cut -f1)"
( IFS=,; echo "{${TIMES[*]}, \"chroot_mib_after_uninstall\": $size, \"ok\": true}" )
