#!/usr/bin/env bash
# Installs what desktop-streamer needs on Debian 12, idempotently.
#
#   scripts/install-deps.sh [--runtime|--all]
#
# --runtime  the packages the supervisor runs with (GStreamer, xrandr)
# --all      (default) also the test rig and the test tools: dummy Xorg,
#            xclock, ffmpeg, promtool, amtool, chromium, the shell linter,
#            systemd-analyze, and systemd-nspawn + mmdebstrap for the box that
#            runs the units under a real systemd (test/e2e/systemd.e2e.ts)
#
# Only missing packages are installed (apt-get update runs once, and only
# then). Afterwards `npm ci` runs when node_modules is missing or older than
# package-lock.json. Needs Node.js >= 20 (Debian 12's own nodejs is 18).
set -euo pipefail

REPO_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
readonly REPO_DIR
readonly MIN_NODE_MAJOR=20

readonly RUNTIME_PACKAGES=(
  gstreamer1.0-tools
  gstreamer1.0-plugins-base
  gstreamer1.0-plugins-good
  gstreamer1.0-plugins-bad
  gstreamer1.0-plugins-ugly
  gstreamer1.0-x
  gstreamer1.0-libav
  x11-xserver-utils
)

# Test rig (scripts/virtual-desktop.sh) and the tools the tests drive.
readonly TEST_PACKAGES=(
  xserver-xorg-core
  xserver-xorg-video-dummy
  x11-apps
  xdotool
  util-linux
  procps
  ffmpeg
  prometheus
  prometheus-alertmanager
  chromium
  shellcheck
  systemd
  python3
  python3-seccomp
  openssl
  xauth
  systemd-container
  mmdebstrap
)

log() { echo "install-deps: $*" >&2; }
die() {
  log "$*"
  exit 1
}

usage() {
  echo "usage: $0 [--runtime|--all]" >&2
  exit 64
}

mode=all
while [[ $# -gt 0 ]]; do
  case "$1" in
    --runtime) mode=runtime ;;
    --all) mode=all ;;
    -h | --help) usage ;;
    *) usage ;;
  esac
  shift
done

check_node() {
  local version major
  if ! command -v node >/dev/null 2>&1; then
    die "Node.js >= ${MIN_NODE_MAJOR} is required but 'node' is not on PATH (Debian 12's nodejs package is 18, too old: install Node ${MIN_NODE_MAJOR}+ first)"
  fi
  version="$(node --version)"
  major="${version#v}"
  major="${major%%.*}"
  if [[ ! "$major" =~ ^[0-9]+$ ]] || ((major < MIN_NODE_MAJOR)); then
    die "Node.js >= ${MIN_NODE_MAJOR} is required, found ${version} at $(command -v node)"
  fi
  command -v npm >/dev/null 2>&1 || die "npm is required next to node ${version}, but 'npm' is not on PATH"
}

missing_packages() {
  local package
  for package in "$@"; do
    # db:Status-Abbrev is "ii " for an installed package; anything else
    # (not known, removed, half-configured) needs an install.
    if [[ "$(dpkg-query -W -f='${db:Status-Abbrev}' "$package" 2>/dev/null)" != "ii " ]]; then
      echo "$package"
    fi
  done
}

as_root() {
  if [[ "$(id -u)" == 0 ]]; then
    "$@"
  elif command -v sudo >/dev/null 2>&1; then
    sudo "$@"
  else
    die "need root to run: $*"
  fi
}

install_packages() {
  local wanted=("${RUNTIME_PACKAGES[@]}")
  if [[ "$mode" == all ]]; then wanted+=("${TEST_PACKAGES[@]}"); fi

  local missing
  mapfile -t missing < <(missing_packages "${wanted[@]}")
  if [[ ${#missing[@]} -eq 0 ]]; then
    log "all ${#wanted[@]} Debian packages (${mode}) are installed"
    return 0
  fi
  log "installing ${#missing[@]} missing Debian packages: ${missing[*]}"
  # Wait for a concurrent apt/dpkg run instead of failing on its lock.
  local apt_options=(-o DPkg::Lock::Timeout=300)
  as_root env DEBIAN_FRONTEND=noninteractive apt-get "${apt_options[@]}" update -q
  as_root env DEBIAN_FRONTEND=noninteractive apt-get "${apt_options[@]}" install -y -q \
    --no-install-recommends "${missing[@]}"

  mapfile -t missing < <(missing_packages "${wanted[@]}")
  [[ ${#missing[@]} -eq 0 ]] || die "still missing after apt-get install: ${missing[*]}"
}

# npm writes node_modules/.package-lock.json on every install, so its mtime
# says when node_modules last matched a lockfile.
node_modules_stale() {
  local marker="${REPO_DIR}/node_modules/.package-lock.json"
  [[ ! -f "$marker" ]] || [[ "${REPO_DIR}/package-lock.json" -nt "$marker" ]]
}

install_node_modules() {
  [[ -f "${REPO_DIR}/package-lock.json" ]] || die "missing ${REPO_DIR}/package-lock.json"
  if node_modules_stale; then
    log "running npm ci in ${REPO_DIR}"
    (cd "$REPO_DIR" && npm ci --no-audit --no-fund)
  else
    log "node_modules is up to date with package-lock.json"
  fi
}

check_node
install_packages
install_node_modules
log "done (${mode})"
