#!/usr/bin/env bash
# Installs desktop-streamer on a Debian 12 kiosk, idempotently: running it again
# changes nothing unless the source changed. An existing /etc/desktop-streamer/config.json
# (also one from the older Python version) is never overwritten.
#
#   sudo ./install.sh                 install or upgrade, enable and start the services
#   sudo ./install.sh --uninstall     remove the app and units, keep /etc and state
#   sudo ./install.sh --uninstall --purge   also remove config, state and the user
#
# Options:
#   --dry-run          print what would be done, change nothing
#   --root DIR         install below DIR instead of / (for tests and image builds);
#                      implies --no-systemctl and no user/group changes on this host
#   --prefix DIR       application directory (default /opt/desktop-streamer)
#   --source DIR       the desktop-streamer source tree (default: this script's directory)
#   --no-packages      do not apt-get install anything
#   --no-systemctl     do not run systemctl (units are still installed)
#   --no-build         use the dist/ already built in the source tree
#   --no-npm           do not run npm ci in the application directory
#   --uninstall        remove (see above); --purge with it removes config and state too
set -euo pipefail

readonly MIN_NODE_MAJOR=20
readonly DEFAULT_PREFIX=/opt/desktop-streamer
readonly SERVICE_USER=desktop-streamer
readonly UNITS=(desktop-streamer.service desktop-streamer-prometheus.service desktop-streamer-alertmanager.service)
# Debian's own instances use the same ports as ours.
readonly STOCK_UNITS=(prometheus.service prometheus-alertmanager.service)
readonly OLD_WATCHDOG_UNIT=desktop-streamer-watchdog.service

readonly PACKAGES=(
  gstreamer1.0-tools
  gstreamer1.0-plugins-base
  gstreamer1.0-plugins-good
  gstreamer1.0-plugins-bad
  gstreamer1.0-plugins-ugly
  gstreamer1.0-x
  gstreamer1.0-libav
  x11-xserver-utils
  prometheus
  prometheus-alertmanager
)
# Hardware encoding (VAAPI): installed when the archive has them.
readonly OPTIONAL_PACKAGES=(gstreamer1.0-vaapi mesa-va-drivers)

root=''
prefix="$DEFAULT_PREFIX"
source_dir="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
dry_run=false
packages=true
use_systemctl=true
build=true
npm_install=true
uninstall=false
purge=false
changes=0

log() { printf '%s\n' "$*"; }
note() { printf 'install.sh: %s\n' "$*" >&2; }
die() {
  note "error: $*"
  exit 1
}

usage() {
  sed -n '2,/^set -euo/p' "${BASH_SOURCE[0]}" | sed -e '$d' -e 's/^# \{0,1\}//'
  exit "${1:-0}"
}

while [[ $# -gt 0 ]]; do
  case "$1" in
    --dry-run) dry_run=true ;;
    --root)
      [[ $# -ge 2 ]] || die "--root needs a directory"
      root="${2%/}"
      shift
      ;;
    --prefix)
      [[ $# -ge 2 && "$2" == /* ]] || die "--prefix needs an absolute directory, got '${2:-}'"
      prefix="${2%/}"
      shift
      ;;
    --source)
      [[ $# -ge 2 ]] || die "--source needs a directory"
      source_dir="$(cd "$2" && pwd)"
      shift
      ;;
    --no-packages) packages=false ;;
    --no-systemctl) use_systemctl=false ;;
    --no-build) build=false ;;
    --no-npm) npm_install=false ;;
    --uninstall) uninstall=true ;;
    --purge) purge=true ;;
    -h | --help) usage 0 ;;
    *)
      note "unknown option '$1'"
      usage 64
      ;;
  esac
  shift
done

if [[ -n "$root" ]]; then
  [[ -d "$root" ]] || die "--root $root is not a directory"
  root="$(cd "$root" && pwd)"
  use_systemctl=false
fi
if [[ "$purge" == true && "$uninstall" != true ]]; then die "--purge only goes with --uninstall"; fi

readonly app_dir="${root}${prefix}"
readonly etc_dir="${root}/etc/desktop-streamer"
readonly unit_dir="${root}/etc/systemd/system"
readonly bin_dir="${root}/usr/local/bin"
readonly dropin_dir="${unit_dir}/desktop-streamer.service.d"
readonly resources_dropin="${dropin_dir}/50-resources.conf"
readonly autostart_file="${root}/etc/xdg/autostart/desktop-streamer-xhost.desktop"
readonly state_dirs=("${root}/var/lib/desktop-streamer" "${root}/var/lib/desktop-streamer-prometheus" "${root}/var/lib/desktop-streamer-alertmanager")

# --- primitives: every change goes through these, so --dry-run and the change count hold ---

changed() {
  changes=$((changes + 1))
  log "  $1 $2"
}

# run CMD...: runs a command that changes the system (printed instead under --dry-run).
run() {
  if [[ "$dry_run" == true ]]; then
    log "  would run: $*"
  else
    "$@"
  fi
}

ensure_dir() { # DIR MODE
  if [[ -d "$1" ]]; then return 0; fi
  changed '+' "$1/"
  if [[ "$dry_run" != true ]]; then install -d -m "$2" "$1"; fi
}

# install_file SRC DST MODE: copies only when the content or mode differs.
install_file() {
  local src="$1" dst="$2" mode="$3"
  if [[ -f "$dst" ]] && cmp -s "$src" "$dst"; then
    if [[ "$(stat -c '%a' "$dst")" != "${mode#0}" ]]; then
      changed '~' "$dst (mode $mode)"
      if [[ "$dry_run" != true ]]; then chmod "$mode" "$dst"; fi
    fi
    return 0
  fi
  if [[ -e "$dst" ]]; then changed '~' "$dst"; else changed '+' "$dst"; fi
  if [[ "$dry_run" != true ]]; then
    install -d -m 0755 "$(dirname "$dst")"
    # Write beside and rename: a reader never sees half a file.
    install -m "$mode" "$src" "$dst.tmp-install"
    mv -f "$dst.tmp-install" "$dst"
  fi
}

# install_if_absent SRC DST MODE: for operator-owned files, never overwritten.
install_if_absent() {
  local src="$1" dst="$2" mode="$3"
  if [[ -e "$dst" ]]; then
    log "  = $dst (kept as it is)"
    return 0
  fi
  install_file "$src" "$dst" "$mode"
}

remove_path() {
  if [[ ! -e "$1" && ! -L "$1" ]]; then return 0; fi
  changed '-' "$1"
  if [[ "$dry_run" != true ]]; then rm -rf -- "$1"; fi
}

# ensure_symlink TARGET LINK: LINK points at TARGET (a path as seen on the installed system).
ensure_symlink() {
  if [[ -L "$2" && "$(readlink "$2")" == "$1" ]]; then return 0; fi
  changed '+' "$2 -> $1"
  if [[ "$dry_run" != true ]]; then
    install -d -m 0755 "$(dirname "$2")"
    ln -sfn "$1" "$2"
  fi
}

# sync_dir SRC DST: DST becomes a copy of SRC (files only; stale files removed).
sync_dir() {
  local src="$1" dst="$2" file rel
  [[ -d "$src" ]] || return 0
  ensure_dir "$dst" 0755
  while IFS= read -r -d '' file; do
    rel="${file#"$src"/}"
    install_file "$file" "$dst/$rel" 0644
  done < <(find "$src" -type f ! -name '*.tmp-install' -print0 | sort -z)
  if [[ -d "$dst" ]]; then
    while IFS= read -r -d '' file; do
      rel="${file#"$dst"/}"
      [[ -e "$src/$rel" ]] || remove_path "$file"
    done < <(find "$dst" -type f -print0 | sort -z)
  fi
}

tmp_dir="$(mktemp -d)"
trap 'rm -rf -- "$tmp_dir"' EXIT

systemd_running() { [[ -d /run/systemd/system ]]; }

can_systemctl() {
  if [[ "$use_systemctl" != true ]]; then return 1; fi
  if ! systemd_running; then
    note "systemd is not running here: skipping systemctl (run 'systemctl daemon-reload' and enable the units on the kiosk)"
    use_systemctl=false
    return 1
  fi
}

# --- checks ---

check_privileges() {
  if [[ -z "$root" && "$dry_run" != true && "$EUID" -ne 0 ]]; then
    die "run as root (sudo ./install.sh), or use --dry-run / --root DIR"
  fi
}

node_bin=''
check_node() {
  local version major
  node_bin="$(command -v node || true)"
  if [[ -z "$node_bin" ]]; then
    die "Node.js >= ${MIN_NODE_MAJOR} is required but 'node' is not on PATH. Debian 12's nodejs package is 18, too old: install Node.js ${MIN_NODE_MAJOR} LTS (e.g. the NodeSource Debian packages) first."
  fi
  version="$("$node_bin" --version)"
  major="${version#v}"
  major="${major%%.*}"
  if [[ ! "$major" =~ ^[0-9]+$ ]] || ((major < MIN_NODE_MAJOR)); then
    die "Node.js >= ${MIN_NODE_MAJOR} is required, found ${version} at ${node_bin}. Install Node.js ${MIN_NODE_MAJOR} LTS first."
  fi
  command -v npm >/dev/null 2>&1 || die "npm is required next to node ${version}, but 'npm' is not on PATH"
}

# --- steps ---

install_packages() {
  local missing=() package
  for package in "${PACKAGES[@]}"; do
    dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q 'install ok installed' || missing+=("$package")
  done
  for package in "${OPTIONAL_PACKAGES[@]}"; do
    dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q 'install ok installed' && continue
    if apt-cache show "$package" >/dev/null 2>&1; then
      missing+=("$package")
    else
      note "optional package $package is not in the archive: hardware (VAAPI) encoding may be unavailable"
    fi
  done
  if [[ ${#missing[@]} -eq 0 ]]; then
    log "  = Debian packages already installed"
    return 0
  fi
  changed '+' "packages: ${missing[*]}"
  run apt-get update
  run env DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "${missing[@]}"
}

build_app() {
  if [[ "$build" == true ]]; then
    if [[ ! -d "$source_dir/node_modules" ]]; then
      log "  building: npm ci (with dev dependencies, for the TypeScript compiler) in $source_dir"
      run npm --prefix "$source_dir" ci --no-audit --no-fund
    fi
    log "  building: npm run build in $source_dir"
    run npm --prefix "$source_dir" run build
  fi
  if [[ "$dry_run" != true && ! -f "$source_dir/dist/cli/index.js" ]]; then
    die "$source_dir/dist/cli/index.js is missing: build first (npm run build) or drop --no-build"
  fi
}

install_app() {
  ensure_dir "$app_dir" 0755
  sync_dir "$source_dir/dist" "$app_dir/dist"
  local item
  for item in package.json package-lock.json README.md LICENSE; do
    if [[ -f "$source_dir/$item" ]]; then install_file "$source_dir/$item" "$app_dir/$item" 0644; fi
  done
  for item in docs systemd prometheus alerting grafana; do
    sync_dir "$source_dir/$item" "$app_dir/$item"
  done
  install_dependencies
  install_commands
}

# npm ci --omit=dev in the app directory, only when package-lock.json changed since the last one.
install_dependencies() {
  local stamp="$app_dir/node_modules/.desktop-streamer-lock.sha256" want
  if [[ "$npm_install" != true ]]; then
    log "  = npm ci skipped (--no-npm)"
    return 0
  fi
  want="$(sha256sum <"$source_dir/package-lock.json" | cut -d' ' -f1)"
  if [[ -f "$stamp" && "$(cat "$stamp")" == "$want" ]]; then
    log "  = $app_dir/node_modules (up to date)"
    return 0
  fi
  changed '~' "$app_dir/node_modules (npm ci --omit=dev)"
  run npm --prefix "$app_dir" ci --omit=dev --no-audit --no-fund --ignore-scripts
  if [[ "$dry_run" != true ]]; then printf '%s\n' "$want" >"$stamp"; fi
}

install_commands() {
  ensure_dir "$bin_dir" 0755
  printf '#!/bin/sh\nexec %s %s/dist/cli/index.js "$@"\n' "$node_bin" "$prefix" >"$tmp_dir/desktop-streamer"
  install_file "$tmp_dir/desktop-streamer" "$bin_dir/desktop-streamer" 0755
  # The older system's quick status command.
  printf '#!/bin/sh\nexec %s %s/dist/cli/index.js status "$@"\n' "$node_bin" "$prefix" >"$tmp_dir/desktop-streamer-monitor"
  install_file "$tmp_dir/desktop-streamer-monitor" "$bin_dir/desktop-streamer-monitor" 0755
}

ensure_user() {
  local group groups=()
  if [[ -n "$root" ]]; then
    log "  = user $SERVICE_USER: not created under --root (create it in the target system)"
    return 0
  fi
  # The unit's SupplementaryGroups= needs both groups to exist (udev normally creates them).
  for group in video render; do
    if ! getent group "$group" >/dev/null; then
      changed '+' "group $group"
      run groupadd --system "$group"
    fi
    groups+=("$group")
  done
  if ! getent passwd "$SERVICE_USER" >/dev/null; then
    changed '+' "user $SERVICE_USER (groups: ${groups[*]})"
    run useradd --system --user-group --no-create-home --home-dir /var/lib/desktop-streamer \
      --shell /usr/sbin/nologin --comment 'desktop-streamer supervisor' \
      --groups "$(
        IFS=,
        echo "${groups[*]}"
      )" "$SERVICE_USER"
    return 0
  fi
  for group in "${groups[@]}"; do
    if ! id -nG "$SERVICE_USER" | tr ' ' '\n' | grep -qx "$group"; then
      changed '~' "user $SERVICE_USER joins group $group"
      run usermod -a -G "$group" "$SERVICE_USER"
    fi
  done
}

write_default_config() {
  # The older system's kiosk-config.json keys, which the new supervisor reads verbatim.
  cat >"$1" <<'JSON'
{
  "fps": 15,
  "width": 1280,
  "height": 720,
  "bitrate": 2000,
  "keyframe_interval": 2,
  "segment_duration": 2,
  "output_dir": "/tmp/hls",
  "max_restarts": 15,
  "restart_delay": 60,
  "max_errors": 10,
  "error_window": 600,
  "encoder": "auto",
  "live_streaming": {
    "enabled": true,
    "max_segments": 5,
    "emergency_segments": 2,
    "cleanup_threshold_percent": 70,
    "emergency_cleanup_threshold_percent": 85
  },
  "unity_optimization": {
    "enabled": true,
    "gpu_memory_limit_mb": 1024,
    "cpu_quota_percent": 30,
    "memory_limit_mb": 800,
    "disk_cleanup_threshold_percent": 70,
    "emergency_cleanup_threshold_percent": 85
  }
}
JSON
}

write_environment_template() {
  cat >"$1" <<'ENV'
# Environment of desktop-streamer.service (read by systemd; KEY=value lines).
# The X display to capture (the unit sets DISPLAY=:0):
#DISPLAY=:0
# X authorisation: install.sh installs /etc/xdg/autostart/desktop-streamer-xhost.desktop,
# which grants this service's user access at every login of the kiosk session
# (xhost +SI:localuser:...). Leave XAUTHORITY unset then: a cookie copied here
# goes stale at the next login or reboot.
#XAUTHORITY=/etc/desktop-streamer/Xauthority
#LOG_LEVEL=info
ENV
}

install_config() {
  ensure_dir "$etc_dir" 0755
  write_default_config "$tmp_dir/config.json"
  install_if_absent "$tmp_dir/config.json" "$etc_dir/config.json" 0644
  write_environment_template "$tmp_dir/environment"
  install_if_absent "$tmp_dir/environment" "$etc_dir/environment" 0644
  if [[ ! -e "$etc_dir/api-token" ]]; then
    # A fresh random token for the control endpoints, given to the service as a systemd
    # credential (LoadCredential=); readable by root only.
    od -An -N32 -tx1 /dev/urandom | tr -d ' \n' >"$tmp_dir/api-token"
    install_file "$tmp_dir/api-token" "$etc_dir/api-token" 0600
  else
    log "  = $etc_dir/api-token (kept as it is)"
  fi
  install_alertmanager_config
  install_prometheus_targets
}

config_port() {
  "$node_bin" -e '
    try { const c = JSON.parse(require("fs").readFileSync(process.argv[1], "utf8")); console.log(c.port ?? 8888); }
    catch { console.log(8888); }' "$etc_dir/config.json" 2>/dev/null || echo 8888
}

# prometheus/prometheus.yml discovers kiosks from targets/kiosks.yml next to it. On the
# kiosk that is this kiosk alone: an operator-owned file in /etc, linked into place.
install_prometheus_targets() {
  local targets="$etc_dir/prometheus-targets.yml" name
  if [[ ! -e "$targets" ]]; then
    name="$(hostname -s 2>/dev/null || echo kiosk)"
    cat >"$tmp_dir/prometheus-targets.yml" <<YAML
# This kiosk, for the local desktop-streamer-prometheus.service (file-based discovery:
# Prometheus re-reads it within a minute). kiosk = the name used in alerts and dashboards.
- targets: ["127.0.0.1:$(config_port)"]
  labels:
    kiosk: ${name}
YAML
    install_file "$tmp_dir/prometheus-targets.yml" "$targets" 0644
  else
    log "  = $targets (kept as it is)"
  fi
  if [[ -d "$app_dir/prometheus" || "$dry_run" == true ]]; then
    ensure_symlink "/etc/desktop-streamer/prometheus-targets.yml" "$app_dir/prometheus/targets/kiosks.yml"
  fi
}

# /etc/desktop-streamer/alertmanager/ belongs to the operator: seeded once, from the older
# watchdog-config.json when there is one, else from the repository's alertmanager.yml.
install_alertmanager_config() {
  local dir="$etc_dir/alertmanager"
  if [[ -e "$dir/alertmanager.yml" ]]; then
    log "  = $dir/alertmanager.yml (kept as it is)"
    return 0
  fi
  if [[ -f "$etc_dir/watchdog-config.json" && -f "$app_dir/dist/cli/index.js" ]]; then
    changed '+' "$dir/ (from $etc_dir/watchdog-config.json)"
    if run "$node_bin" "$app_dir/dist/cli/index.js" alertmanager-config \
      --watchdog-config "$etc_dir/watchdog-config.json" --out "$dir"; then
      return 0
    fi
    note "could not convert watchdog-config.json; installing the default alertmanager.yml (edit its receivers)"
  fi
  if [[ -f "$source_dir/alerting/alertmanager.yml" ]]; then
    install_file "$source_dir/alerting/alertmanager.yml" "$dir/alertmanager.yml" 0640
    if [[ -d "$source_dir/alerting/templates" ]]; then sync_dir "$source_dir/alerting/templates" "$dir/templates"; fi
  else
    note "no alerting/alertmanager.yml in $source_dir: desktop-streamer-alertmanager.service needs $dir/alertmanager.yml"
  fi
}

# Gives the operator-owned secrets to the service users (only on a real system).
set_ownership() {
  if [[ -n "$root" ]]; then return 0; fi
  # The supervisor reads config.json as its own user. A config kept from the older version
  # (which ran as root) may be root-only: give the group read access, content untouched.
  if [[ -f "$etc_dir/config.json" ]] && getent passwd "$SERVICE_USER" >/dev/null &&
    ! runuser -u "$SERVICE_USER" -- test -r "$etc_dir/config.json"; then
    changed '~' "$etc_dir/config.json (readable by group $SERVICE_USER)"
    run chgrp "$SERVICE_USER" "$etc_dir/config.json"
    run chmod g+r "$etc_dir/config.json"
    if [[ "$dry_run" != true ]] && ! runuser -u "$SERVICE_USER" -- test -r "$etc_dir/config.json"; then
      note "$SERVICE_USER still cannot read $etc_dir/config.json: check the modes of $etc_dir"
    fi
  fi
  # Alertmanager runs as prometheus: it reads its config and the 0600 secret files that
  # alertmanager-config writes through the group; nobody else can.
  if getent group prometheus >/dev/null && [[ -d "$etc_dir/alertmanager" ]]; then
    run chown -R root:prometheus "$etc_dir/alertmanager"
    run chmod -R g+rX,g-w,o-rwx "$etc_dir/alertmanager"
  fi
}

render_unit() { # UNIT -> path of the unit as installed (node and prefix substituted)
  local out="$tmp_dir/$1"
  sed -e "s#/usr/bin/node #${node_bin} #" -e "s#${DEFAULT_PREFIX}#${prefix}#g" "$source_dir/systemd/$1" >"$out"
  printf '%s\n' "$out"
}

install_units() {
  local unit
  ensure_dir "$unit_dir" 0755
  for unit in "${UNITS[@]}"; do
    install_file "$(render_unit "$unit")" "$unit_dir/$unit" 0644
  done
}

# unity_optimization.cpu_quota_percent / memory_limit_mb of config.json as CPUQuota=/MemoryMax=
# of the unit, in a drop-in of ours (an operator's `systemctl edit` override.conf sorts after it
# and wins). Prints "CPU MEM" or, for a value the supervisor would refuse, an error naming it.
# Defaults and ranges are those of src/config/schema.ts and src/config/validate.ts.
config_resources() {
  # shellcheck disable=SC2016 # JavaScript, not shell
  "$node_bin" -e '
    const [file] = process.argv.slice(1);
    let config;
    try { config = JSON.parse(require("fs").readFileSync(file, "utf8")); }
    catch (error) { console.error(`cannot read ${file}: ${error.message}`); process.exit(1); }
    const u = config.unity_optimization ?? {};
    const pick = (key, fallback, min, max) => {
      const value = u[key] ?? fallback;
      if (typeof value !== "number" || !Number.isFinite(value) || value < min || value > max) {
        console.error(`unity_optimization.${key} is ${JSON.stringify(value)}: allowed is a number from ${min} to ${max}`);
        process.exit(1);
      }
      return value;
    };
    const cpu = pick("cpu_quota_percent", 30, 1, 6400);
    const mem = pick("memory_limit_mb", 800, 16, 1048576);
    console.log(`${Number(cpu.toFixed(2))} ${Math.round(mem)}`);
  ' "$etc_dir/config.json"
}

install_resources_dropin() {
  local values cpu mem
  if [[ ! -f "$etc_dir/config.json" ]]; then return 0; fi
  if ! values="$(config_resources 2>&1)"; then
    note "not mirroring the resource limits of $etc_dir/config.json into the unit: $values"
    return 0
  fi
  read -r cpu mem <<<"$values"
  cat >"$tmp_dir/50-resources.conf" <<CONF
# Written by install.sh from /etc/desktop-streamer/config.json (unity_optimization): re-run
# install.sh after changing cpu_quota_percent or memory_limit_mb there. Own changes go in
# \`systemctl edit desktop-streamer\` (override.conf, read after this file).
[Service]
CPUQuota=${cpu}%
MemoryHigh=$((mem * 7 / 8))M
MemoryMax=${mem}M
CONF
  ensure_dir "$dropin_dir" 0755
  install_file "$tmp_dir/50-resources.conf" "$resources_dropin" 0644
}

# The kiosk session grants the service's user access to its X display at every login, so the
# grant survives logins and reboots (a copied cookie does not). By uid when the user exists here:
# the X server resolves a name in its own user database, a uid it compares as it is.
install_xhost_autostart() {
  local who="$SERVICE_USER"
  if [[ -z "$root" ]] && getent passwd "$SERVICE_USER" >/dev/null; then who="#$(id -u "$SERVICE_USER")"; fi
  cat >"$tmp_dir/autostart.desktop" <<DESKTOP
[Desktop Entry]
Type=Application
Name=desktop-streamer display access
Comment=Lets the desktop-streamer service (user $SERVICE_USER) capture this display; installed by install.sh
Exec=xhost "+SI:localuser:${who}"
NoDisplay=true
Terminal=false
X-GNOME-Autostart-Phase=Initialization
DESKTOP
  install_file "$tmp_dir/autostart.desktop" "$autostart_file" 0644
}

# GStreamer's plugin registry for the service user (XDG_CACHE_HOME of the unit), built once here:
# the first scan of every plugin can take longer than the supervisor's encoder probe waits on a
# slow or busy kiosk, and the service would then start without an encoder.
prime_gstreamer_registry() {
  local state=/var/lib/desktop-streamer cache=/var/lib/desktop-streamer/cache
  if [[ -n "$root" ]] || ! getent passwd "$SERVICE_USER" >/dev/null || ! command -v gst-inspect-1.0 >/dev/null; then
    return 0
  fi
  if compgen -G "$cache/gstreamer-1.0/registry.*.bin" >/dev/null; then return 0; fi
  changed '+' "$cache/gstreamer-1.0/ (GStreamer plugin registry of $SERVICE_USER)"
  # The unit's StateDirectory=, with its owner and mode: systemd keeps it as it is.
  run install -d -o "$SERVICE_USER" -g "$SERVICE_USER" -m 0750 "$state"
  run runuser -u "$SERVICE_USER" -- env XDG_CACHE_HOME="$cache" gst-inspect-1.0 coreelements >/dev/null ||
    note "could not build GStreamer's plugin registry for $SERVICE_USER; the service builds it at its first start"
}

# An existing config.json (e.g. from the older version) is never changed; say so loudly
# when the new supervisor would refuse it (it then exits 78 and systemd does not restart it).
config_ok=true
check_config() {
  local output
  if [[ "$dry_run" == true || ! -f "$app_dir/dist/cli/index.js" || ! -f "$etc_dir/config.json" ]]; then return 0; fi
  local status=0
  output="$("$node_bin" "$app_dir/dist/cli/index.js" check-config "$etc_dir/config.json" 2>&1)" || status=$?
  case "$status" in
    0) log "  = $etc_dir/config.json is valid" ;;
    78)
      config_ok=false
      note "$etc_dir/config.json is not valid for this version; the service will not start until it is fixed:"
      printf '%s\n' "$output" | sed 's/^/    /' >&2
      note "check it again with: desktop-streamer check-config $etc_dir/config.json"
      ;;
    *) note "could not check $etc_dir/config.json (desktop-streamer check-config exited $status): ${output%%$'\n'*}" ;;
  esac
}

start_units() {
  local unit
  if ! can_systemctl; then
    log "  = systemctl skipped"
    return 0
  fi
  run systemctl daemon-reload
  if systemctl cat "$OLD_WATCHDOG_UNIT" >/dev/null 2>&1; then
    note "$OLD_WATCHDOG_UNIT (older version) is replaced by systemd's watchdog + Prometheus/Alertmanager: disabling it"
    run systemctl disable --now "$OLD_WATCHDOG_UNIT"
  fi
  for unit in "${STOCK_UNITS[@]}"; do
    if systemctl is-enabled --quiet "$unit" 2>/dev/null || systemctl is-active --quiet "$unit" 2>/dev/null; then
      note "disabling Debian's $unit: desktop-streamer's own instance uses the same port"
      run systemctl disable --now "$unit"
    fi
  done
  run systemctl enable "${UNITS[@]}"
  if [[ "$config_ok" == true ]]; then
    run systemctl restart "${UNITS[@]}"
  else
    run systemctl restart desktop-streamer-prometheus.service desktop-streamer-alertmanager.service
    note "desktop-streamer.service not (re)started: fix config.json first, then: systemctl restart desktop-streamer"
  fi
}

print_urls() {
  local host port
  host="$(hostname -I 2>/dev/null | awk '{print $1}')"
  host="${host:-localhost}"
  port="$(config_port)"
  log ''
  log "desktop-streamer:"
  log "  stream:      http://${host}:${port}/hls/desktop/playlist.m3u8"
  log "  player:      http://${host}:${port}/player"
  log "  API:         http://${host}:${port}/api/health   (token: ${etc_dir}/api-token)"
  log "  metrics:     http://${host}:${port}/metrics"
  log "  Prometheus:  http://127.0.0.1:9090   Alertmanager: http://127.0.0.1:9093   (loopback only by default)"
  log "  logs:        journalctl -u desktop-streamer -f"
}

do_install() {
  check_privileges
  check_node
  log "desktop-streamer: installing from $source_dir into ${root:-/} (app: $app_dir)$([[ "$dry_run" == true ]] && echo ' [dry run]')"
  if [[ "$packages" == true ]]; then install_packages; else log "  = packages skipped (--no-packages)"; fi
  build_app
  ensure_user
  install_app
  install_config
  set_ownership
  install_units
  install_resources_dropin
  install_xhost_autostart
  prime_gstreamer_registry
  check_config
  start_units
  log "$changes change(s)$([[ "$dry_run" == true ]] && echo ' would be made')"
  print_urls
}

do_uninstall() {
  local unit dir
  check_privileges
  log "desktop-streamer: uninstalling from ${root:-/}$([[ "$dry_run" == true ]] && echo ' [dry run]')"
  if can_systemctl; then
    for unit in "${UNITS[@]}"; do
      if systemctl cat "$unit" >/dev/null 2>&1; then run systemctl disable --now "$unit"; fi
    done
  fi
  for unit in "${UNITS[@]}"; do remove_path "$unit_dir/$unit"; done
  remove_path "$resources_dropin"
  if [[ -d "$dropin_dir" ]] && [[ -z "$(ls -A "$dropin_dir")" ]]; then remove_path "$dropin_dir"; fi
  remove_path "$autostart_file"
  if [[ "$use_systemctl" == true ]]; then run systemctl daemon-reload; fi
  remove_path "$bin_dir/desktop-streamer"
  remove_path "$bin_dir/desktop-streamer-monitor"
  remove_path "$app_dir"
  if [[ "$purge" == true ]]; then
    remove_path "$etc_dir"
    for dir in "${state_dirs[@]}"; do remove_path "$dir"; done
    if [[ -z "$root" ]] && getent passwd "$SERVICE_USER" >/dev/null; then
      changed '-' "user $SERVICE_USER"
      run userdel "$SERVICE_USER"
    fi
  else
    log "  kept: $etc_dir (config, token, alertmanager.yml) and ${state_dirs[*]} — --purge removes them"
  fi
  log "$changes change(s)$([[ "$dry_run" == true ]] && echo ' would be made')"
}

if [[ "$uninstall" == true ]]; then do_uninstall; else do_install; fi
