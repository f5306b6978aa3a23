#!/usr/bin/env bash
# systemd-box.sh - a real systemd (PID 1) in a systemd-nspawn container, for the e2e test of the
# shipped units (test/e2e/systemd.e2e.ts). Works on a Debian 12 host without a running systemd
# (containers, CI VMs) and with cgroup v1 or hybrid hierarchies.
#
#   systemd-box.sh create                   build (or reuse) the cached base rootfs; prints its path
#   systemd-box.sh boot NAME [NSPAWN-ARGS]  boot box NAME in the background (private network)
#   systemd-box.sh exec NAME CMD...         run CMD inside (nsenter into all its namespaces)
#   systemd-box.sh pid NAME                 the box's PID 1 as seen from the host
#   systemd-box.sh root NAME                host path of the box's / (an overlay on the base)
#   systemd-box.sh stop NAME                poweroff, unmount, remove its cgroups and its state
#
# Adapted from the team's shared tool (shared/tools/systemd-box), kept here so CI and the test do
# not depend on a directory outside the repository, and so the base rootfs already holds the
# runtime packages install.sh asks for (the box has no network, see boot).
#
# Environment:
#   DS_BOX_CACHE  where base rootfs live (default /var/cache/desktop-streamer-test/systemd-box);
#                 one directory per package list, so a change of the list builds a new one
#   DS_BOX_STATE  per-box state (default /var/tmp/desktop-streamer-boxes)
#   DS_BOX_PROJECT host directory bound read-only at /opt/project ("" = none)
#   DS_BOX_MIRROR  Debian mirror (default: the host's apt source)
set -euo pipefail

readonly SUITE=bookworm
# The box's own PID 1 and what install.sh's package step would install (install.sh then finds
# them installed: the box has no network). Keep in step with install.sh's PACKAGES.
readonly PKGS=systemd,systemd-sysv,dbus,libpam-systemd,libstdc++6,procps,iproute2,passwd,util-linux,\
gstreamer1.0-tools,gstreamer1.0-plugins-base,gstreamer1.0-plugins-good,gstreamer1.0-plugins-bad,\
gstreamer1.0-plugins-ugly,gstreamer1.0-x,gstreamer1.0-libav,x11-xserver-utils,prometheus,prometheus-alertmanager
readonly FORMAT=1 # bump when the rootfs layout below changes
CACHE=${DS_BOX_CACHE:-/var/cache/desktop-streamer-test/systemd-box}
STATE=${DS_BOX_STATE:-/var/tmp/desktop-streamer-boxes}
PROJECT=${DS_BOX_PROJECT-}
BOOT_TIMEOUT=60
CG_ROOT=/sys/fs/cgroup
IPATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin

die() {
  echo "systemd-box: $*" >&2
  exit 1
}
need_root() { [[ "$(id -u)" == 0 ]] || die "must run as root"; }

base_dir() {
  local key
  key=$(printf '%s %s %s' "$SUITE" "$PKGS" "$FORMAT" | sha256sum | cut -c1-12)
  echo "$CACHE/$SUITE-$key"
}

mirror() {
  if [[ -n "${DS_BOX_MIRROR:-}" ]]; then
    echo "$DS_BOX_MIRROR"
    return
  fi
  # deb822 sources (Debian 12's default) "URIs: http://…/debian", else one-line "deb http://…/debian …"
  {
    sed -n 's#^URIs: *\(https\?://[^ ]*/debian/\?\)$#\1#p' /etc/apt/sources.list.d/*.sources 2>/dev/null || true
    sed -n 's#^deb \(\[[^]]*\] \)\?\(https\?://[^ ]*/debian/\?\) .*#\2#p' /etc/apt/sources.list /etc/apt/sources.list.d/*.list 2>/dev/null || true
  } | head -1
}

cmd_create() {
  need_root
  command -v mmdebstrap >/dev/null || die "mmdebstrap is missing: scripts/install-deps.sh --all"
  command -v systemd-nspawn >/dev/null || die "systemd-nspawn is missing (package systemd-container): scripts/install-deps.sh --all"
  local base t0=$SECONDS m
  base=$(base_dir)
  mkdir -p "$CACHE"
  # One builder at a time; a second caller waits and then reuses the result.
  exec 9>"$CACHE/.lock"
  flock 9
  if [[ ! -x "$base/usr/local/sbin/box-init" ]]; then
    m=$(mirror)
    [[ -n "$m" ]] || die "no Debian mirror found in /etc/apt/sources.list*; set DS_BOX_MIRROR"
    rm -rf "$base.tmp"
    echo "systemd-box: building $base (mmdebstrap minbase + $PKGS)" >&2
    mmdebstrap --quiet --variant=minbase --include="$PKGS" "$SUITE" "$base.tmp" \
      "deb $m $SUITE main" "deb $m $SUITE-updates main" "deb ${m%/}-security $SUITE-security main" >&2
    finish_rootfs "$base.tmp"
    # Built aside and renamed: a half-built rootfs is never taken for a finished one.
    mv "$base.tmp" "$base"
    echo "systemd-box: built in $((SECONDS - t0)) s, $(du -sh "$base" | cut -f1)" >&2
  fi
  echo "$base"
}

finish_rootfs() {
  local r="$1"
  rm -f "$r/etc/hostname"
  : >"$r/etc/machine-id"
  ln -sf /dev/null "$r/etc/systemd/system/console-getty.service"
  ln -sf /dev/null "$r/etc/systemd/system/getty@.service"
  # Debian's own Prometheus/Alertmanager are replaced by ours (install.sh disables them too).
  rm -f "$r"/etc/systemd/system/multi-user.target.wants/prometheus*.service
  mkdir -p "$r/opt/project" "$r/usr/lib/node_modules/npm"
  # node and npm are the host's (bound at boot): Debian 12's nodejs is too old.
  ln -sf ../lib/node_modules/npm/bin/npm-cli.js "$r/usr/bin/npm"
  # nspawn mounts the cgroup v1 controllers read-only without a user namespace, and systemd
  # would then silently ignore CPUQuota=/MemoryMax=: remount them read-write (they are
  # namespaced to the box's own subtree), then become systemd.
  mkdir -p "$r/usr/local/sbin"
  cat >"$r/usr/local/sbin/box-init" <<'EOF'
#!/bin/sh
for d in /sys/fs/cgroup/*; do
  case "$d" in */unified|*/systemd) continue;; esac
  mountpoint -q "$d" && mount -o remount,bind,rw "$d"
done
exec /lib/systemd/systemd "$@"
EOF
  chmod 755 "$r/usr/local/sbin/box-init"
}

box_dir() { echo "$STATE/$1"; }
nspawn_pid() {
  local f
  f="$(box_dir "$1")/nspawn.pid"
  if [[ -f "$f" ]]; then cat "$f"; fi
}
init_pid() {
  local np
  np=$(nspawn_pid "$1")
  [[ -n "$np" ]] && kill -0 "$np" 2>/dev/null || return 1
  pgrep -P "$np" | head -1
}

cg_create_and_enter() { # NAME PID
  local h f
  for h in "$CG_ROOT"/*; do
    mountpoint -q "$h" || continue
    [[ -f "$h/cgroup.procs" ]] || continue
    mkdir -p "$h/ds-box/$1"
    if [[ -f "$h/cpuset.cpus" ]]; then
      for f in cpuset.cpus cpuset.mems; do
        [[ -s "$h/ds-box/$f" ]] || cat "$h/$f" >"$h/ds-box/$f"
        [[ -s "$h/ds-box/$1/$f" ]] || cat "$h/$f" >"$h/ds-box/$1/$f"
      done
    fi
    echo "$2" >"$h/ds-box/$1/cgroup.procs"
  done
}

cg_remove() {
  local h
  for h in "$CG_ROOT"/*; do
    [[ -d "$h/ds-box/$1" ]] || continue
    find "$h/ds-box/$1" -depth -type d -exec rmdir {} \; 2>/dev/null || true
  done
}

cmd_boot() {
  need_root
  local name=${1:?usage: boot NAME [nspawn-args...]}
  shift
  [[ $name =~ ^[A-Za-z0-9][A-Za-z0-9_-]*$ ]] || die "bad box name '$name': letters, digits, - and _"
  local base
  base=$(base_dir)
  [[ -x "$base/usr/local/sbin/box-init" ]] || die "no rootfs at $base; run: $0 create"
  if init_pid "$name" >/dev/null; then die "box $name is already running"; fi
  local d
  d=$(box_dir "$name")
  mkdir -p "$d/upper" "$d/work" "$d/root"
  mountpoint -q "$d/root" ||
    mount -t overlay "ds-box-$name" -o "lowerdir=$base,upperdir=$d/upper,workdir=$d/work" "$d/root"
  # The host's X socket directory is bound in, read-only: the box's systemd-tmpfiles would
  # otherwise empty it at boot (x11.conf: "D! /tmp/.X11-unix"), deleting the sockets of every X
  # server on the host. Read-only, because connecting to a socket needs no write access to the mount.
  mkdir -p "$d/root/etc/tmpfiles.d"
  ln -sfn /dev/null "$d/root/etc/tmpfiles.d/x11.conf"

  # --private-network: the box's :8888/:9090/:9093 never meet the host's (tests run side by side).
  local args=(-D "$d/root" -M "$name" --register=no --keep-unit --private-network
    --kill-signal=SIGRTMIN+3 --console=pipe
    --bind-ro="$(readlink -f "$(command -v node)")":/usr/bin/node
    --bind-ro="$(dirname "$(dirname "$(readlink -f "$(command -v npm)")")")":/usr/lib/node_modules/npm)
  mkdir -p /tmp/.X11-unix && chmod 1777 /tmp/.X11-unix
  args+=(--bind-ro=/tmp/.X11-unix:/tmp/.X11-unix)
  [[ -n "$PROJECT" && -d "$PROJECT" ]] && args+=(--bind-ro="$PROJECT":/opt/project)
  args+=("$@")

  local t0=$SECONDS
  # shellcheck disable=SC2016 # expanded by the inner bash
  setsid bash -c '
    name=$1; shift
    '"$(declare -f cg_create_and_enter)"'
    CG_ROOT='"$CG_ROOT"'
    cg_create_and_enter "$name" $$
    echo $$ > '"$d"'/nspawn.pid
    exec systemd-nspawn "$@" /usr/local/sbin/box-init
  ' _ "$name" "${args[@]}" </dev/null >"$d/console.log" 2>&1 &

  local ip="" state="" i
  for ((i = 0; i < BOOT_TIMEOUT * 5; i++)); do
    sleep 0.2
    ip=$(init_pid "$name" || true)
    if [[ -z "$ip" && $i -gt 25 ]] && ! kill -0 "$(nspawn_pid "$name")" 2>/dev/null; then
      cat "$d/console.log" >&2
      die "systemd-nspawn exited"
    fi
    [[ -n "$ip" ]] || continue
    state=$(nsenter -t "$ip" -a env -i PATH=$IPATH systemctl is-system-running 2>/dev/null || true)
    case "$state" in running | degraded) break ;; esac
  done
  case "$state" in
    running | degraded) ;;
    *) die "box $name did not reach running (state '$state'); see $d/console.log" ;;
  esac
  echo "box $name is $state after $((SECONDS - t0)) s (PID 1 on host: $ip)"
}

cmd_exec() {
  local name=${1:?usage: exec NAME CMD...}
  shift
  local ip
  ip=$(init_pid "$name") || die "box $name is not running"
  [[ $# -gt 0 ]] || set -- bash
  exec nsenter -t "$ip" -a env -i PATH=$IPATH HOME=/root LANG=C.UTF-8 container=systemd-nspawn "$@"
}

cmd_stop() {
  need_root
  local name=${1:?usage: stop NAME}
  local d np ip
  d=$(box_dir "$name")
  np=$(nspawn_pid "$name")
  ip=$(init_pid "$name" || true)
  if [[ -n "$ip" ]]; then
    nsenter -t "$ip" -a env -i PATH=$IPATH systemctl poweroff --no-block >/dev/null 2>&1 || kill -RTMIN+3 "$ip" || true
    for _ in $(seq 1 100); do
      kill -0 "$np" 2>/dev/null || break
      sleep 0.2
    done
    if kill -0 "$np" 2>/dev/null; then
      kill -TERM "$np"
      sleep 2
      kill -KILL "$np" 2>/dev/null || true
    fi
  fi
  if mountpoint -q "$d/root"; then umount "$d/root" || umount -l "$d/root"; fi
  cg_remove "$name"
  rm -rf "/run/systemd/nspawn/propagate/$name" "$d"
}

sub=${1:-}
shift || true
case "$sub" in
  create) cmd_create ;;
  boot) cmd_boot "$@" ;;
  exec) cmd_exec "$@" ;;
  pid) init_pid "${1:?NAME}" ;;
  root) echo "$(box_dir "${1:?NAME}")/root" ;;
  stop) cmd_stop "$@" ;;
  *)
    sed -n '2,22p' "$0"
    exit 64
    ;;
esac
