#!/usr/bin/env bash
# Virtual two-monitor X11 desktop for development and tests, without hardware.
#
#   scripts/virtual-desktop.sh start|stop|status|unplug|replug [--display :N] [--auth]
#
# start   Xorg with the dummy driver (scripts/xorg-dummy.conf), then xrandr:
#           DUMMY0 1920x1080+0+0 (primary)  filled RED
#           DUMMY1 1280x720+1920+0          filled BLUE, with a ticking clock
#         Idempotent: when this script's Xorg already runs on :N it only
#         prints the display. Prints DISPLAY=:N on success.
#         --auth: as a display manager does, Xorg gets -auth COOKIE-FILE and
#         only clients with that cookie (or an xhost grant) may connect;
#         the file is <state dir>/Xauthority, also printed as XAUTHORITY=….
#         Without --auth the server accepts every local client.
# stop    kills only the processes this script started (pids in the state dir).
# status  exit 0 and the monitors when running, exit 3 when not.
# unplug  turns DUMMY1 off (the second monitor disappears).
# replug  restores DUMMY1 at 1280x720+1920+0 and restarts missing content.
#
# State (pids, Xorg log) lives in /tmp/desktop-streamer-rig-<N>/.
# Default display :99. Exit codes: 0 ok, 1 failure, 2 display in use by a
# server this script did not start, 3 not running (status), 64 usage.
# Runs as root (Xorg refuses an absolute -config path to ordinary users
# unless the Debian xserver-xorg-legacy wrapper allows it).
set -euo pipefail

SCRIPT_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
readonly SCRIPT_DIR
readonly XORG_CONFIG="${SCRIPT_DIR}/xorg-dummy.conf"
readonly READY_TIMEOUT_TENTHS=100 # 10 s

# CVT 60 Hz modelines (as printed by `cvt W H 60`), used with
# --newmode only if the server does not already offer the mode.
readonly MODELINE_1920x1080="173.00 1920 2048 2248 2576 1080 1083 1088 1120 -hsync +vsync"
readonly MODELINE_1280x720="74.50 1280 1344 1472 1664 720 723 728 748 -hsync +vsync"

usage() {
  echo "usage: $0 start|stop|status|unplug|replug [--display :N] [--auth]" >&2
  exit 64
}

log() { echo "virtual-desktop: $*" >&2; }
die() {
  log "$*"
  exit 1
}

display_number=99
command=""
with_auth=false
while [[ $# -gt 0 ]]; do
  case "$1" in
    start | stop | status | unplug | replug) command="$1" ;;
    --display)
      [[ $# -ge 2 ]] || usage
      display_number="${2#:}"
      shift
      ;;
    --display=*)
      display_number="${1#--display=}"
      display_number="${display_number#:}"
      ;;
    --auth) with_auth=true ;;
    -h | --help) usage ;;
    *) usage ;;
  esac
  shift
done
[[ -n "$command" ]] || usage
[[ "$display_number" =~ ^[0-9]+$ ]] || die "--display must look like :N (N a number), got '${display_number}'"

readonly DISPLAY_NAME=":${display_number}"
readonly STATE_DIR="/tmp/desktop-streamer-rig-${display_number}"
readonly XORG_PID_FILE="${STATE_DIR}/xorg.pid"
readonly XORG_LOG="${STATE_DIR}/Xorg.log"
readonly XORG_OUT="${STATE_DIR}/Xorg.out"
readonly X_LOCK_FILE="/tmp/.X${display_number}-lock"
readonly AUTH_FILE="${STATE_DIR}/Xauthority"
# Our own clients (xrandr, xsetroot, xclock) present the cookie when the server wants one.
if [[ -f "$AUTH_FILE" ]]; then export XAUTHORITY="$AUTH_FILE"; fi

require_tools() {
  local tool missing=()
  for tool in "$@"; do
    command -v "$tool" >/dev/null 2>&1 || missing+=("$tool")
  done
  if [[ ${#missing[@]} -gt 0 ]]; then
    die "missing ${missing[*]}; run scripts/install-deps.sh --all"
  fi
}

# True when pid is alive and its command line contains the given marker, so a
# recycled pid of some unrelated process is never mistaken for ours.
pid_matches() {
  local pid="$1" marker="$2" cmdline
  [[ "$pid" =~ ^[0-9]+$ ]] || return 1
  process_alive "$pid" || return 1
  cmdline="$(tr '\0' ' ' <"/proc/${pid}/cmdline" 2>/dev/null)" || return 1
  [[ "$cmdline" == *"$marker"* ]]
}

read_pid() {
  if [[ -f "$1" ]]; then cat "$1"; fi
}

xorg_running() {
  pid_matches "$(read_pid "$XORG_PID_FILE")" "Xorg ${DISPLAY_NAME} "
}

xrun() { "$@" -display "$DISPLAY_NAME"; }

# Stops the process in a pid file if it is still the one we started.
stop_pid_file() {
  local file="$1" marker="$2" pid tenths
  pid="$(read_pid "$file")"
  if pid_matches "$pid" "$marker"; then
    kill -TERM "$pid" 2>/dev/null || true
    for ((tenths = 0; tenths < 50; tenths++)); do
      pid_matches "$pid" "$marker" || break
      sleep 0.1
    done
    if pid_matches "$pid" "$marker"; then kill -KILL "$pid" 2>/dev/null || true; fi
  fi
  rm -f "$file"
}

# Starts a client in its own session so it survives the caller's terminal;
# setsid execs in place (we are not a group leader), so $! is the client.
start_client() {
  local name="$1"
  shift
  setsid "$@" </dev/null >>"${STATE_DIR}/${name}.out" 2>&1 &
  echo "$!" >"${STATE_DIR}/${name}.pid"
}

ensure_client() {
  local name="$1"
  shift
  pid_matches "$(read_pid "${STATE_DIR}/${name}.pid")" "xclock" || start_client "$name" "$@"
}

ensure_content() {
  xrun xsetroot -solid black
  ensure_client red xclock -display "$DISPLAY_NAME" -bw 0 -bg red -fg black -hd black \
    -geometry 1920x1080+0+0
  ensure_client blue xclock -display "$DISPLAY_NAME" -bw 0 -bg blue -fg black -hd black \
    -update 1 -geometry 1280x720+1920+0
}

stop_content() {
  stop_pid_file "${STATE_DIR}/red.pid" xclock
  stop_pid_file "${STATE_DIR}/blue.pid" xclock
}

ensure_mode() {
  local output="$1" mode="$2" modeline="$3"
  if ! xrun xrandr --query | grep -q "^ *${mode} "; then
    # shellcheck disable=SC2086 # the modeline is a list of numbers and flags
    xrun xrandr --newmode "$mode" $modeline
  fi
  # --addmode fails harmlessly when the output already has the mode.
  xrun xrandr --addmode "$output" "$mode" 2>/dev/null || true
}

plug_second() {
  ensure_mode DUMMY1 1280x720 "$MODELINE_1280x720"
  xrun xrandr --output DUMMY1 --mode 1280x720 --pos 1920x0
}

configure_layout() {
  ensure_mode DUMMY0 1920x1080 "$MODELINE_1920x1080"
  xrun xrandr --output DUMMY0 --mode 1920x1080 --pos 0x0 --primary
  plug_second
}

monitor_count() {
  xrun xrandr --listmonitors 2>/dev/null | sed -n 's/^Monitors: *\([0-9]*\)$/\1/p'
}

# Liveness is checked by pid alone, not by xorg_running's command-line match:
# while the server is still being exec'd (bash -> setsid -> /usr/bin/Xorg ->
# /usr/lib/xorg/Xorg) its /proc cmdline can briefly be bash's or empty, and a
# start on a cold machine once gave up there before Xorg had written a line.
wait_for() {
  local what="$1" tenths pid
  shift
  pid="$(read_pid "$XORG_PID_FILE")"
  for ((tenths = 0; tenths < READY_TIMEOUT_TENTHS; tenths++)); do
    "$@" && return 0
    process_alive "$pid" || return 1
    sleep 0.1
  done
  log "timed out waiting for ${what}"
  return 1
}

server_answers() { xrun xrandr --current >/dev/null 2>&1; }
two_monitors() { [[ "$(monitor_count)" == 2 ]]; }

fail_start() {
  local pid status=""
  pid="$(read_pid "$XORG_PID_FILE")"
  if [[ -n "$pid" ]] && ! process_alive "$pid"; then
    wait "$pid" 2>/dev/null && status=0 || status=$?
    log "Xorg (pid ${pid}) exited with status ${status}"
  fi
  log "$1; last lines of ${XORG_LOG}:"
  tail -n 15 "$XORG_LOG" >&2 2>/dev/null || true
  tail -n 5 "$XORG_OUT" >&2 2>/dev/null || true
  stop_content
  stop_pid_file "$XORG_PID_FILE" "Xorg ${DISPLAY_NAME} "
  exit "${2:-1}"
}

# A zombie still answers kill -0, and Xorg's own lock check uses kill -0: a
# killed server whose parent has not reaped it yet would block the display.
# Only a running (non-zombie) process counts as alive here.
process_alive() {
  local stat
  stat="$(cat "/proc/$1/stat" 2>/dev/null)" || return 1
  stat="${stat##*) }"
  [[ "${stat:0:1}" != Z && "${stat:0:1}" != X ]]
}

# Prints the pid of a live server holding the display lock, if any. A lock or
# socket left by a server that is dead (or a zombie) is removed.
foreign_server_pid() {
  local pid
  [[ -r "$X_LOCK_FILE" ]] || return 1
  pid="$(tr -d ' ' <"$X_LOCK_FILE")" || return 1
  if [[ "$pid" =~ ^[0-9]+$ ]] && process_alive "$pid"; then
    echo "$pid"
    return 0
  fi
  log "removing the stale lock of dead server pid ${pid} on ${DISPLAY_NAME}"
  rm -f "$X_LOCK_FILE" "/tmp/.X11-unix/X${display_number}"
  return 1
}

cmd_start() {
  require_tools Xorg xrandr xsetroot xclock setsid
  [[ -r "$XORG_CONFIG" ]] || die "missing ${XORG_CONFIG}"
  mkdir -p "$STATE_DIR"

  if xorg_running; then
    print_display
    return 0
  fi
  local other
  if other="$(foreign_server_pid)"; then
    log "display ${DISPLAY_NAME} is in use by pid ${other}, which this script did not start"
    exit 2
  fi
  stop_content # clients left over from a server that died

  local auth_args=()
  rm -f "$AUTH_FILE"
  unset XAUTHORITY
  if [[ "$with_auth" == true ]]; then
    require_tools xauth mcookie
    make_cookie
    auth_args=(-auth "$AUTH_FILE")
    export XAUTHORITY="$AUTH_FILE"
  fi
  : >"$XORG_OUT"
  # -sharevts -novtswitch: never take over or switch a virtual console, so
  # several rigs can run side by side on one machine.
  setsid Xorg "$DISPLAY_NAME" -config "$XORG_CONFIG" -noreset -nolisten tcp \
    -sharevts -novtswitch -logfile "$XORG_LOG" "${auth_args[@]}" </dev/null >>"$XORG_OUT" 2>&1 &
  echo "$!" >"$XORG_PID_FILE"

  if ! wait_for "Xorg on ${DISPLAY_NAME}" server_answers; then
    if grep -q "already active" "$XORG_OUT" "$XORG_LOG" 2>/dev/null; then
      fail_start "display ${DISPLAY_NAME} was taken by another server meanwhile" 2
    fi
    fail_start "Xorg did not come up on ${DISPLAY_NAME}"
  fi
  configure_layout || fail_start "xrandr could not set the two-monitor layout"
  wait_for "two monitors" two_monitors || fail_start "xrandr --listmonitors does not show 2 monitors"
  ensure_content
  print_display
}

print_display() {
  echo "DISPLAY=${DISPLAY_NAME}"
  if [[ -f "$AUTH_FILE" ]]; then echo "XAUTHORITY=${AUTH_FILE}"; fi
}

# A fresh MIT-MAGIC-COOKIE-1 for this display, readable by its owner only (as a display manager
# writes it); the server reads the same file through -auth.
make_cookie() {
  (
    umask 077
    : >"$AUTH_FILE"
    xauth -q -f "$AUTH_FILE" add "$DISPLAY_NAME" MIT-MAGIC-COOKIE-1 "$(mcookie)"
  ) || die "could not write the X cookie ${AUTH_FILE}"
}

cmd_stop() {
  if [[ ! -d "$STATE_DIR" ]]; then
    log "nothing started on ${DISPLAY_NAME}"
    return 0
  fi
  stop_content
  stop_pid_file "$XORG_PID_FILE" "Xorg ${DISPLAY_NAME} "
  rm -f "${STATE_DIR}"/*.out "$XORG_LOG" "${XORG_LOG}.old" "$AUTH_FILE" "${AUTH_FILE}"-*
  rmdir "$STATE_DIR" 2>/dev/null || true
  log "stopped ${DISPLAY_NAME}"
}

cmd_status() {
  if xorg_running; then
    echo "running DISPLAY=${DISPLAY_NAME} xorg_pid=$(read_pid "$XORG_PID_FILE")"
    xrun xrandr --listmonitors
  else
    echo "stopped DISPLAY=${DISPLAY_NAME}"
    exit 3
  fi
}

require_running() {
  xorg_running || die "no rig started by this script on ${DISPLAY_NAME}"
}

cmd_unplug() {
  require_running
  xrun xrandr --output DUMMY1 --off
}

cmd_replug() {
  require_running
  plug_second
  wait_for "two monitors" two_monitors || die "DUMMY1 did not come back"
  ensure_content
}

"cmd_${command}"
