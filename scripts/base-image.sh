#!/usr/bin/env bash
# Makes the base image the real-build tests use, once per machine: Debian bookworm (minbase) with
# R (r-base-core, r-base-dev, r-recommended: what rocker images ship), Python 3 with pip, curl,
# and a `micromamba` that installs explicit conda environment files with py-rattler
# (scripts/test-micromamba.sh), imported into buildah's storage as
# `localhost/imglock-test-base:bookworm-r-python-conda`. An image already there is kept when it
# was made from these scripts (its label `imglock.scripts` is their sha256); else it is made anew.
#
# Needs root, buildah and debootstrap (scripts/test.sh installs them). Uses the vfs storage driver
# and chroot isolation: no daemon, no overlay mounts, works inside containers.
set -euo pipefail
export STORAGE_DRIVER=vfs BUILDAH_ISOLATION=chroot
image=localhost/imglock-test-base:bookworm-r-python-conda
here=$(cd "$(dirname "$0")" && pwd)
scripts=$(cat "$here/base-image.sh" "$here/conda-install.py" "$here/test-micromamba.sh" | sha256sum | cut -d' ' -f1)
made_from=$(buildah inspect --type image --format '{{index .OCIv1.Config.Labels "imglock.scripts"}}' "$image" 2>/dev/null || true)
if [ "$made_from" = "$scripts" ]; then
    echo "base image $image is present"
    exit 0
fi
[ -z "$made_from" ] || buildah rmi "$image" >/dev/null 2>&1 || true
mirror=${DEBIAN_MIRROR:-http://deb.debian.org/debian}
work=$(mktemp -d /var/tmp/imglock-base.XXXXXX)
trap 'rm -rf "$work"' EXIT
echo "Making $image with debootstrap from $mirror (a few minutes, once per machine)..."
debootstrap --variant=minbase --include=r-base-core,r-base-dev,r-recommended,python3-pip,curl,ca-certificates \
    bookworm "$work/root" "$mirror" >"$work/debootstrap.log" 2>&1 || {
    tail -30 "$work/debootstrap.log" >&2
    exit 1
}
rm -rf "$work/root/var/cache/apt/archives/"*.deb "$work/root/var/lib/apt/lists/"*
# py-rattler for the image's Python (bookworm's 3.11), fetched from PyPI by the host's pip, kept
# out of site-packages (the stand-in micromamba alone puts it on its path): an image built on
# this base holds no Python package its lock does not name.
python3 -m pip install --quiet --disable-pip-version-check --no-deps --only-binary :all: \
    --platform manylinux2014_x86_64 --python-version 3.11 \
    --target "$work/root/usr/local/lib/imglock/python" py-rattler==0.28.0
install -D -m 0644 "$here/conda-install.py" "$work/root/usr/local/lib/imglock/conda-install.py"
install -D -m 0755 "$here/test-micromamba.sh" "$work/root/usr/local/bin/micromamba"
tar -C "$work/root" -cf "$work/root.tar" .
container=$(buildah from scratch)
buildah add "$container" "$work/root.tar" / >/dev/null
buildah config --env LANG=C.UTF-8 --cmd /bin/bash --label "imglock.scripts=$scripts" "$container"
buildah commit --rm "$container" "$image" >/dev/null
echo "base image $image is ready"
