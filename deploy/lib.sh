# Shared by deploy/install.sh and deploy/uninstall.sh (sourced; REPO is set by the caller).
# Every path is "$ROOT$X": ROOT is empty for the live system, a folder for --root.

ROOT="${ROOT:-}"
PREFIX=/opt/tongban-kiosk
ETC=/etc/tongban-kiosk
STATE=/var/lib/tongban-kiosk
LOGS=/var/log/tongban-kiosk
KIOSK_USER=kiosk
# Device groups (Debian's base-passwd makes them all): ID module and serial printers,
# USB printers, cameras, the speaker, removable media.
KIOSK_GROUPS=dialout,lp,video,audio,plugdev
UNITS=(tongban-kiosk.service tongban-kiosk-display.service tongban-kiosk-paused.service
       tongban-kiosk-nightly.service tongban-kiosk-nightly.timer)
ENABLED=(tongban-kiosk-display.service tongban-kiosk.service tongban-kiosk-nightly.timer)
UDEV_RULES=70-tongban-kiosk.rules
XORG_CONF=10-tongban-kiosk.conf
POLKIT_RULE=60-tongban-kiosk-pcsc.rules
PCSC_POLICY=/usr/share/polkit-1/actions/org.debian.pcsc-lite.policy
# What the release needs from the repository (no tests, benchmarks or developer tools).
RELEASE_ITEMS=(pyproject.toml README.md LICENSE kiosk drivers screens fleetops intake rigs
               config assets deploy docs/install.md)
# Runtime Debian packages: Python; the libraries of pyzbar, pyscard, pyusb and Kivy (its
# wheel brings SDL2, which loads libX11/libXext/libXi at run time); pcscd and a CCID driver
# for passports; eSpeak NG; systemd, udev, logind's PAM module and D-Bus for the automatic
# login; the display: Xorg (modesetting and libinput), xauth, Mesa's GL drivers.
APT_PACKAGES=(python3 python3-venv ca-certificates libzbar0 pcscd libccid libpcsclite1
              libmtdev1 libgl1 libgl1-mesa-dri libusb-1.0-0 espeak-ng systemd udev dbus
              libpam-systemd xserver-xorg-core xserver-xorg-input-libinput xauth libx11-6
              libxext6 libxi6 libxrandr2 libxcursor1)

# pyscard has no wheel for Linux on PyPI: pip builds it (SWIG, the PC/SC headers, a C
# compiler). Installed for the build only, and removed after it unless they were there; the
# wheel built is kept in $PREFIX/wheels, so an upgrade needs no compiler.
BUILD_PACKAGES=(build-essential python3-dev swig libpcsclite-dev)
BUILD_INSTALLED=()
LOCAL_WHEELS=$PREFIX/wheels

say() { printf '%s / %s\n' "$1" "$2" >&2; }
die() { printf '错误：%s / error: %s\n' "$1" "$2" >&2; exit 1; }

not_installed() {   # PACKAGE...: those of them dpkg does not have
  local pkg
  for pkg in "$@"; do
    dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" \
      || echo "$pkg"
  done
}

install_debian_packages() {
  local missing=()
  mapfile -t missing < <(not_installed "${APT_PACKAGES[@]}")
  if [ -z "$WHEELHOUSE" ] && ! compgen -G "$ROOT$LOCAL_WHEELS/pyscard-*.whl" >/dev/null; then
    mapfile -t BUILD_INSTALLED < <(not_installed "${BUILD_PACKAGES[@]}")
  fi
  missing+=("${BUILD_INSTALLED[@]}")
  [ "${#missing[@]}" -eq 0 ] && return 0
  say "安装 Debian 软件包 ${#missing[@]} 个" "installing ${missing[*]}"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
    "${missing[@]}" >/dev/null
}

remove_build_packages() {
  [ "${#BUILD_INSTALLED[@]}" -gt 0 ] || return 0
  say "移除构建工具" "removing the build tools: ${BUILD_INSTALLED[*]}"
  DEBIAN_FRONTEND=noninteractive apt-get purge -y -qq --autoremove "${BUILD_INSTALLED[@]}" \
    >/dev/null
}

# A numeric id from the target's own account files (the host's may differ under --root).
account_id() {   # passwd|group NAME
  awk -F: -v n="$2" '$1 == n { print $3 }' "$ROOT/etc/$1"
}

ensure_user() {
  local prefix=()
  [ -n "$ROOT" ] && prefix=(--prefix "$ROOT")
  [ -n "$(account_id group "$KIOSK_USER")" ] || groupadd "${prefix[@]}" --system "$KIOSK_USER"
  if [ -z "$(account_id passwd "$KIOSK_USER")" ]; then
    useradd "${prefix[@]}" --system --gid "$KIOSK_USER" --groups "$KIOSK_GROUPS" \
      --home-dir "$STATE" --no-create-home --shell /usr/sbin/nologin \
      --comment "tongban-kiosk" "$KIOSK_USER"
  else
    usermod "${prefix[@]}" --append --groups "$KIOSK_GROUPS" "$KIOSK_USER"
  fi
  KUID="$(account_id passwd "$KIOSK_USER")"
  KGID="$(account_id group "$KIOSK_USER")"
}

release_name() {
  local version sha
  version="$(sed -n 's/^version = "\(.*\)"$/\1/p' "$REPO/pyproject.toml" | head -1)"
  sha="$(git -C "$REPO" rev-parse --short=10 HEAD 2>/dev/null || echo local)"
  echo "${version:-0}-${sha}-$(date -u +%Y%m%dT%H%M%S%3NZ)"
}

# The code, root's and read-only for everyone else; removed again if the install fails
# before it becomes current.
stage_release() {   # RELEASE
  local dest="$ROOT$PREFIX/releases/$1"
  [ ! -e "$dest" ] || die "$dest 已存在" "$dest exists"
  STAGED="$dest"
  trap 'rm -rf "$STAGED"' EXIT
  install -d -o 0 -g 0 -m 0755 "$ROOT$PREFIX" "$ROOT$PREFIX/releases" "$dest" "$dest/app"
  tar -C "$REPO" --exclude=__pycache__ --exclude='*.pyc' --exclude=node_modules \
      --exclude='*.egg-info' -cf - "${RELEASE_ITEMS[@]}" \
    | tar -C "$dest/app" --no-same-owner --no-same-permissions -xf -
  chown -R 0:0 "$dest/app"
  chmod -R u=rwX,go=rX "$dest/app"
  chmod 0755 "$dest/app/deploy/bin/"*
}

# Its own virtual environment. Editable, on purpose: kiosk/paths.py finds config/ and
# assets/ beside the code, which a plain install would leave behind in site-packages.
build_venv() {   # RELEASE
  local dest="$ROOT$PREFIX/releases/$1" pip_args=(--disable-pip-version-check --no-input -q)
  local pip=("$dest/venv/bin/python" -m pip)
  if [ -n "$WHEELHOUSE" ]; then
    pip_args+=(--no-index --find-links "$WHEELHOUSE")
  else   # a wheel built before beats building a newer release from source
    pip_args+=(--find-links "$ROOT$LOCAL_WHEELS" --prefer-binary)
  fi
  say "建立 Python 环境" "building the Python environment in $dest/venv"
  install -d -o 0 -g 0 -m 0755 "$ROOT$LOCAL_WHEELS"
  /usr/bin/python3 -m venv "$dest/venv"
  "${pip[@]}" install "${pip_args[@]}" -e "$dest/app"
  if ! compgen -G "$ROOT$LOCAL_WHEELS/pyscard-*.whl" >/dev/null; then
    "${pip[@]}" wheel "${pip_args[@]}" --no-deps -w "$ROOT$LOCAL_WHEELS" \
      "pyscard==$("${pip[@]}" show pyscard | sed -n 's/^Version: //p')"
  fi
  "$dest/venv/bin/python" -m compileall -q -j 0 "$dest/app" >/dev/null
  chown -R 0:0 "$dest"
  chmod -R go-w "$dest"
}

make_folders() {
  install -d -o 0 -g "$KGID" -m 0750 "$ROOT$ETC" "$ROOT$ETC/keys"
  # What a technician copied in with 0644 is closed to others, and read-only for the app.
  chgrp -R "$KGID" "$ROOT$ETC"
  chmod -R g-w,o-rwx "$ROOT$ETC"
  install -d -o "$KUID" -g "$KGID" -m 0700 "$ROOT$STATE" "$ROOT$LOGS"
}

# A first install writes the settings from config/default.toml, with the catalogue and
# assets of the installed release, the nightly window the timer runs in (03:00, up to
# 15 minutes late: tongban-kiosk-nightly.timer) and the unit's LogsDirectory; an upgrade
# never touches them.
NIGHTLY="03:00-04:00"
write_settings_once() {
  local target="$ROOT$ETC/settings.toml" app="$PREFIX/current/app" tmp
  [ -e "$target" ] && return 0
  tmp="$(mktemp)"
  sed -e "s#^catalogue = \"catalogue.yaml\"\$#catalogue = \"$app/config/catalogue.yaml\"#" \
      -e "s#^assets = \"../assets\"\$#assets = \"$app/assets\"#" \
      -e "s#^nightly = \"\"\$#nightly = \"$NIGHTLY\"#" \
      -e "s#^log_dir = \"logs\"\$#log_dir = \"/var/log/tongban-kiosk\"#" \
      "$STAGED/app/config/default.toml" > "$tmp"
  grep -q "^catalogue = \"$app/config/catalogue.yaml\"\$" "$tmp" \
    && grep -q "^assets = \"$app/assets\"\$" "$tmp" \
    && grep -q "^nightly = \"$NIGHTLY\"\$" "$tmp" \
    && grep -q "^log_dir = \"/var/log/tongban-kiosk\"\$" "$tmp" \
    || { rm -f "$tmp"; die "config/default.toml 的 [paths] 已变，无法生成设置" \
                            "config/default.toml's [paths] changed: cannot write the settings"; }
  install -o 0 -g "$KGID" -m 0640 "$tmp" "$target"
  rm -f "$tmp"
}

install_system_files() {
  local src="$STAGED/app/deploy" unit
  install -d -m 0755 "$ROOT/etc/systemd/system" "$ROOT/etc/udev/rules.d" \
    "$ROOT/etc/X11/xorg.conf.d" "$ROOT/etc/pam.d"
  for unit in "${UNITS[@]}"; do
    install -o 0 -g 0 -m 0644 "$src/systemd/$unit" "$ROOT/etc/systemd/system/$unit"
  done
  install -o 0 -g 0 -m 0644 "$src/udev/$UDEV_RULES" "$ROOT/etc/udev/rules.d/$UDEV_RULES"
  install -o 0 -g 0 -m 0644 "$src/xorg/$XORG_CONF" "$ROOT/etc/X11/xorg.conf.d/$XORG_CONF"
  install -o 0 -g 0 -m 0644 "$src/pam/tongban-kiosk" "$ROOT/etc/pam.d/tongban-kiosk"
  if [ -e "$ROOT$PCSC_POLICY" ]; then
    install -d -m 0755 "$ROOT/etc/polkit-1/rules.d"
    install -o 0 -g 0 -m 0644 "$src/polkit/$POLKIT_RULE" "$ROOT/etc/polkit-1/rules.d/$POLKIT_RULE"
  fi
}

switch_current() {   # RELEASE
  PREVIOUS="$(readlink "$ROOT$PREFIX/current" 2>/dev/null || true)"
  ln -sfn "releases/$1" "$ROOT$PREFIX/.current.new"
  mv -T "$ROOT$PREFIX/.current.new" "$ROOT$PREFIX/current"
  trap - EXIT
}

# Two releases stay: the current one and the one before it (for --rollback, and for an app
# still running from it until its restart).
prune_releases() {
  local dir keep_new keep_old
  keep_new="$(readlink "$ROOT$PREFIX/current")"
  keep_old="${PREVIOUS:-}"
  for dir in "$ROOT$PREFIX/releases/"*/; do
    dir="releases/$(basename "$dir")"
    [ "$dir" = "$keep_new" ] || [ "$dir" = "$keep_old" ] || rm -rf "$ROOT$PREFIX/$dir"
  done
}

enable_units() {
  systemctl --root="${ROOT:-/}" --quiet enable "${ENABLED[@]}"
  if [ -e "$ROOT/lib/systemd/system/graphical.target" ]; then
    systemctl --root="${ROOT:-/}" --quiet set-default graphical.target
  fi
}

systemd_running() { [ -z "$ROOT" ] && [ -d /run/systemd/system ]; }

check_settings() {
  runuser -u "$KIOSK_USER" -- "$PREFIX/current/venv/bin/kiosk" config validate \
      "$ETC/settings.toml" \
    || say "设置未通过检查：启动前请修改 $ETC/settings.toml" \
           "the settings do not validate: fix $ETC/settings.toml before the kiosk starts"
}

reload_live_system() {   # UPGRADE (1/0)
  if ! systemd_running; then
    say "systemd 未运行（chroot）：服务已启用，开机即启动" \
        "systemd is not running (chroot): the units are enabled and start at boot"
    return 0
  fi
  systemctl daemon-reload
  udevadm control --reload-rules || true
  udevadm trigger --subsystem-match=tty --subsystem-match=usb \
    --subsystem-match=usbmisc --subsystem-match=video4linux || true
  if [ "$1" -eq 1 ] && [ "$RESTART" -eq 1 ]; then
    systemctl try-restart tongban-kiosk.service
  fi
}

rollback() {
  local current previous
  current="$(readlink "$ROOT$PREFIX/current" 2>/dev/null)" \
    || die "未安装" "not installed"
  previous="$(cd "$ROOT$PREFIX" && ls -1d releases/*/ | sed 's#/$##' | grep -vxF "$current" \
              | sort | tail -1)"
  [ -n "$previous" ] || die "没有可回退的版本" "no previous release to go back to"
  ln -sfn "$previous" "$ROOT$PREFIX/.current.new"
  mv -T "$ROOT$PREFIX/.current.new" "$ROOT$PREFIX/current"
  say "已回退到 $previous" "rolled back to $previous"
  if systemd_running; then
    systemctl daemon-reload
    systemctl try-restart tongban-kiosk.service
  fi
}
