#!/usr/bin/env bash
# Runs CI (`bash .ci/run`, i.e. scripts/test.sh) the way a fresh machine would: in a chroot made by
# debootstrap that holds only what a fresh CI machine has (gcc/g++/make, git, curl, ca-certificates,
# the Rust toolchain, pyenv's CPython with pip) and none of the test tools, so that test.sh has to
# install every one of them itself.
#
#   sudo scripts/ci-in-fresh-root.sh [COMMIT]     # COMMIT of $REPO, default its HEAD
#
#   FRESH=1      debootstrap the pristine root again (it is kept in $WORK/base between runs)
#   WORK=...     work folder (default /var/tmp/imglock-fresh); each run gets a new copy $WORK/root
#   REPO=...     repository to clone (default /work/main); SHARED=... corpora (default /work/shared)
#   DEBIAN_MIRROR=...   (default http://deb.debian.org/debian)
# Output is teed to $WORK/ci-<time>-<commit>.log; the exit status is that of `.ci/run`.
set -euo pipefail
work=${WORK:-/var/tmp/imglock-fresh} repo=${REPO:-/work/main} shared=${SHARED:-/work/shared}
mirror=${DEBIAN_MIRROR:-http://deb.debian.org/debian}
[ "$(id -u)" = 0 ] || { echo "run as root" >&2; exit 1; }
commit=$(git -C "$repo" rev-parse --verify "${1:-HEAD}^{commit}")
pyver=$(cat "${PYENV_ROOT:-/root/.pyenv}/version")
base=$work/base root=$work/root log=$work/ci-$(date +%Y%m%d-%H%M%S)-${commit:0:7}.log
mkdir -p "$work"

# Unmounts everything under the root, deepest first; rm -rf must never run across a mount.
unmount_all() {
    local m
    for m in $(awk -v r="$root" '$5 == r || index($5, r "/") == 1 { print $5 }' /proc/self/mountinfo | sort -r); do
        umount "$m" 2>/dev/null || umount -l "$m"
    done
}
trap unmount_all EXIT
unmount_all

# 1. The pristine root, once (FRESH=1 makes it again): Debian's minbase plus what the machine has.
#    The libraries are the runtime libraries pyenv's CPython links against (ssl, ffi, sqlite, ...).
if [ -n "${FRESH:-}" ] || [ ! -e "$base/.complete" ]; then
    rm -rf "$base"
    debootstrap --variant=minbase \
        --include=gcc,g++,make,libc6-dev,git,curl,ca-certificates,procps,libssl3,libffi8,libsqlite3-0,libbz2-1.0,liblzma5,zlib1g,libreadline8,libncursesw6,libexpat1,libuuid1 \
        bookworm "$base" "$mirror"
    # The apt sources of a Debian bookworm image: main, updates and security.
    rm -f "$base/etc/apt/sources.list"
    cat >"$base/etc/apt/sources.list.d/debian.sources" <<EOF
Types: deb
URIs: $mirror
Suites: bookworm bookworm-updates
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg

Types: deb
URIs: http://deb.debian.org/debian-security
Suites: bookworm-security
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
EOF
    touch "$base/.complete"
fi

# 2. This run's root: a new copy of the pristine one, so nothing from a previous run is in it.
if [ -e "$root" ]; then
    [ -z "$(awk -v r="$root" '$5 == r || index($5, r "/") == 1' /proc/self/mountinfo)" ] || { echo "mounts left under $root" >&2; exit 1; }
    rm -rf "$root"
fi
cp -a "$base" "$root"
cp -L /etc/resolv.conf "$root/etc/resolv.conf"

# pyenv with its global CPython (the other versions are left out); uv, py-rattler and zstandard
# are uninstalled below, inside the root, which also rehashes pyenv's shims.
mkdir -p "$root/root/.pyenv/versions"
tar -C /root/.pyenv --exclude=./versions -c . | tar -C "$root/root/.pyenv" -x
cp -a "/root/.pyenv/versions/$pyver" "$root/root/.pyenv/versions/"

# The repository at the commit, and the corpora beside it.
mkdir -p "$root/work"
git clone -q "$repo" "$root/work/main"
git -C "$root/work/main" checkout -q --detach "$commit"
cp -a "$shared" "$root/work/shared"

# The root is a mount point of its own, as / is on a machine (buildah's layer extraction makes
# / private in a new mount namespace, which fails with EINVAL when / is no mount point).
mount --bind "$root" "$root"
# The Rust toolchain: rustup's home read-only, cargo's home shared (its registry cache and lock).
mkdir -p "$root/root/.rustup" "$root/root/.cargo"
mount --bind /root/.rustup "$root/root/.rustup"
mount -o remount,bind,ro "$root/root/.rustup"
mount --bind /root/.cargo "$root/root/.cargo"
mount -t proc proc "$root/proc"
mount -t sysfs sysfs "$root/sys"
mount --rbind /dev "$root/dev" # with /dev/pts: a test runs `script` for a pseudo-terminal
mount --make-rslave "$root/dev" # so unmounting it never reaches the host's /dev
mount -t tmpfs tmpfs "$root/tmp"

in_root() {
    env -i HOME=/root TERM=dumb CI=true PYENV_ROOT=/root/.pyenv \
        PATH=/root/.cargo/bin:/root/.pyenv/plugins/pyenv-virtualenv/shims:/root/.pyenv/shims:/root/.pyenv/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
        chroot "$root" bash -c "$1"
}

# Timestamps each line of output and appends it to the log.
log_lines() { while IFS= read -r line || [ -n "$line" ]; do printf '%(%T)T %s\n' -1 "$line"; done | tee -a "$log"; }

# 3. Make pyenv's Python what a fresh machine has, then show that no test tool is there.
if ! in_root 'echo "== imglock CI in a fresh root: commit '"$commit"'"
        python3 -m pip uninstall -y -q uv py-rattler zstandard; present=0
        for t in R Rscript buildah skopeo mvn uv; do
            if command -v $t >/dev/null; then echo "PRESENT: $t ($(command -v $t))"; present=1; fi
        done
        if python3 -c "import rattler" 2>/dev/null; then echo "PRESENT: python3 module rattler"; present=1; fi
        echo "python3: $(command -v python3) ($(python3 --version)); $(cargo --version)"
        [ $present = 0 ] && echo "none of R, buildah, skopeo, mvn, uv, python3 -c \"import rattler\" is present"' 2>&1 | log_lines; then
    echo "the root is not fresh" | log_lines
    exit 1
fi

# 4. CI, exactly: `bash .ci/run` in a clean clone.
set +e
in_root 'cd /work/main && time bash .ci/run' 2>&1 | log_lines
status=${PIPESTATUS[0]}
echo "== .ci/run exited with $status; log: $log" | log_lines
exit "$status"
