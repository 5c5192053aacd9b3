#!/usr/bin/env bash
# PostgreSQL majors other than the host's 15, each in a Debian root of its own suite: Debian 12's
# archive serves their binary packages (17 in trixie, 18 in sid) but they need that suite's C
# library, and no suite carries 16 (docs/testing.md). Made once per machine, outside the clone, in
# ~/.cache/agent-trace/roots/pgMAJOR (about a minute), then reused.
#
#   scripts/pg-root.sh MAJOR               make the root if missing; print its path
#   scripts/pg-root.sh MAJOR run CMD ...   run CMD as root inside it, in this repository (mounted at
#                                          the same path), with PG_CONFIG set to that major's, the
#                                          host's Rust toolchain and a build directory of the root's
#
# Inside, /tmp is the host's (test clusters and sockets are reachable from both sides) and the
# postgres user has the host's uid, so a directory either side gives it works on the other.
set -euo pipefail
cd "$(dirname "$0")/.."
repo=$PWD

major=${1:?usage: scripts/pg-root.sh MAJOR [run CMD ...]}
case $major in
    15) suite=bookworm ;;  # the host's own: a clean one, to install packages into (test-packages.sh)
    17) suite=trixie ;;
    18) suite=sid ;;
    *) echo "scripts/pg-root.sh: no Debian suite here carries PostgreSQL $major (15: bookworm, 17: trixie, 18: sid)" >&2; exit 2 ;;
esac
cache=${AGENT_TRACE_CACHE:-$HOME/.cache/agent-trace}
root=$cache/roots/pg$major
ready=$root/.agent-trace-ready
# What building and testing the extension there needs; 15's root only installs packages and runs
# PostgreSQL (the host builds for 15).
packages="postgresql-$major python3 ca-certificates"
[ "$major" = 15 ] || packages+=" postgresql-server-dev-$major clang libclang-dev pkg-config make gcc libc6-dev git sudo dpkg-dev"

log() { printf '==> %s\n' "$*" >&2; }

mounts=()
unmount_all() {
    local i
    for ((i = ${#mounts[@]} - 1; i >= 0; i--)); do
        umount -l "${mounts[$i]}" 2>/dev/null || true
    done
    mounts=()
}
bind() { # bind SOURCE TARGET-INSIDE-ROOT, with what is mounted below SOURCE (/dev/shm, /dev/pts)
    mkdir -p "$root$2"
    mount --rbind "$1" "$root$2"
    # Unmounting it later must not reach the host's own mounts.
    mount --make-rslave "$root$2"
    mounts+=("$root$2")
}
in_root() { chroot "$root" /usr/bin/env -i HOME=/root PATH=/root/.cargo/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin LANG=C.UTF-8 "$@"; }

make_root() {
    command -v debootstrap >/dev/null || { log "installing debootstrap"; apt-get install -y -q debootstrap >/dev/null; }
    log "making a Debian $suite root for PostgreSQL $major in $root (once per machine)"
    # A root left unfinished is made again; never one with something mounted in it (a recursive
    # delete would follow a bind mount into the host's files).
    if grep -q " $root" /proc/mounts; then
        echo "scripts/pg-root.sh: something is mounted under $root; unmount it first" >&2
        exit 1
    fi
    rm -rf "$root" "$root.new"
    mkdir -p "$cache/roots"
    debootstrap --variant=minbase "$suite" "$root.new" http://deb.debian.org/debian >"$cache/roots/pg$major.log" 2>&1 \
        || { tail -20 "$cache/roots/pg$major.log" >&2; exit 1; }
    # The packages start no service in the root and make no cluster of their own.
    printf '#!/bin/sh\nexit 101\n' >"$root.new/usr/sbin/policy-rc.d"
    chmod +x "$root.new/usr/sbin/policy-rc.d"
    mkdir -p "$root.new/etc/postgresql-common/createcluster.d"
    echo "create_main_cluster = false" >"$root.new/etc/postgresql-common/createcluster.d/agent-trace.conf"
    # The host's postgres uid and gid, before the package makes the user.
    chroot "$root.new" groupadd --system --gid "$(id -g postgres)" postgres
    chroot "$root.new" useradd --system --uid "$(id -u postgres)" --gid postgres \
        --home-dir /var/lib/postgresql --shell /bin/bash postgres
    mv "$root.new" "$root"
    bind /proc /proc
    bind /dev /dev
    trap unmount_all EXIT
    # The archive here may serve a suite's index past its validity date (sid's, seen expired).
    echo 'Acquire::Check-Valid-Until "false";' >"$root/etc/apt/apt.conf.d/99agent-trace"
    in_root apt-get update -q >>"$cache/roots/pg$major.log" 2>&1
    # shellcheck disable=SC2086 # a list of package names
    in_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends $packages \
        >>"$cache/roots/pg$major.log" 2>&1 || { tail -20 "$cache/roots/pg$major.log" >&2; exit 1; }
    unmount_all
    in_root "/usr/lib/postgresql/$major/bin/pg_config" --version >"$ready"
    log "PostgreSQL in the root: $(cat "$ready")"
}

mkdir -p "$cache"
exec 9>"$cache/roots.lock"
flock 9
[ -f "$ready" ] || make_root

if [ "${2:-}" != run ]; then
    echo "$root"
    exit 0
fi
shift 2
trap unmount_all EXIT
bind /proc /proc
bind /dev /dev
bind /tmp /tmp
bind "$HOME/.cargo" /root/.cargo
bind "$HOME/.rustup" /root/.rustup
bind "$repo" "$repo"
cp /etc/resolv.conf /etc/hosts /etc/hostname "$root/etc/" 2>/dev/null || true
# The root's own build directory and pgrx home: its C library is not the host's. Every clone that
# runs here shares them: when another clone built last, its build of the extension goes (the
# dependencies stay), or cargo, whose fingerprints are per path, could install that clone's build.
target=/var/cache/agent-trace/target
if [ "$(cat "$root$target.repo" 2>/dev/null)" != "$repo" ]; then
    # shellcheck disable=SC2016 # expanded by that sh
    in_root env CARGO_TARGET_DIR=$target CARGO_HOME=/root/.cargo RUSTUP_HOME=/root/.rustup \
        sh -c 'cd "$0" && cargo clean -q -p agent_trace && cargo clean -q --release -p agent_trace' "$repo"
    mkdir -p "$(dirname "$root$target")"
    echo "$repo" >"$root$target.repo"
fi
# shellcheck disable=SC2016 # expanded by that sh
in_root env PG_CONFIG="/usr/lib/postgresql/$major/bin/pg_config" CARGO_TARGET_DIR=$target \
    PGRX_HOME=/root/.pgrx CARGO_HOME=/root/.cargo RUSTUP_HOME=/root/.rustup \
    TMPDIR=/tmp \
    sh -c 'cd "$0" && exec "$@"' "$repo" "$@"
