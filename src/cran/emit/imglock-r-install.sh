#!/bin/sh
# imglock-r-install NAME VERSION SHA256 SOURCE
# Installs one locked R package. A build of exactly this source (same name, version, sha256,
# R version and platform) in the binary cache is reinstalled as it is; otherwise the source
# tarball is fetched, verified against the locked sha256 before use, built, and its binary kept
# in the cache when the cache is a mount. SOURCE is an http(s) URL, or context:PATH for a file of
# the build context (mounted at /imglock-context). Any failure stops the build, naming the package.
set -eu
name=$1
version=$2
sha256=$3
source=$4
cache=/var/cache/imglock
key="r/${IMGLOCK_R_KEY:?}/${name}_${version}_${sha256}.tar.gz"
set --
if [ -n "${IMGLOCK_R_LIBRARY:-}" ]; then
    mkdir -p "$IMGLOCK_R_LIBRARY"
    set -- -l "$IMGLOCK_R_LIBRARY"
fi
# A fixed build folder: compiled code then records the same paths in every build.
work=/tmp/imglock-r-build
rm -rf "$work"
mkdir -p "$work"
trap "rm -rf $work" EXIT
if [ -f "$cache/$key" ] && R CMD INSTALL "$@" "$cache/$key" >"$work/log" 2>&1; then
    echo "imglock: R package $name $version installed from the binary cache"
    exit 0
fi
tarball="$work/${name}_${version}.tar.gz"
case "$source" in
    context:*) cp "/imglock-context/${source#context:}" "$tarball" ;;
    *) curl -fsSL --retry 3 -o "$tarball" "$source" || {
        echo "imglock: downloading R package $name $version from $source failed" >&2
        exit 1
    } ;;
esac
if ! echo "$sha256  $tarball" | sha256sum -c --status; then
    actual=$(sha256sum "$tarball" | cut -d " " -f 1)
    echo "imglock: checksum mismatch for R package $name $version from $source: the lock says sha256 $sha256, the download has $actual; refusing to install it" >&2
    exit 1
fi
cd "$work"
tar -xzf "$tarball"
if ! R CMD INSTALL --build "$@" "$work/$name" >"$work/log" 2>&1; then
    cat "$work/log" >&2
    echo "imglock: building R package $name $version failed" >&2
    exit 1
fi
if grep -qs " $cache " /proc/mounts; then
    mkdir -p "$(dirname "$cache/$key")"
    for built in "$work/${name}_${version}"_R_*.tar.gz; do
        if [ -f "$built" ]; then
            cp "$built" "$cache/$key.partial" && mv "$cache/$key.partial" "$cache/$key"
        fi
    done
fi
echo "imglock: R package $name $version built from source"
