#!/bin/sh
# imglock-r-install NAME VERSION SHA256 SOURCE BINARY_SHA256 LINKED [FIELD...]
# Installs one locked R package. SOURCE is an http(s) URL, or context:PATH for a file of the
# build context (mounted at /imglock-context). BINARY_SHA256 is the sha256 of the binary the
# lock records for this source and cache key, or - when it records none. The cache key is
# IMGLOCK_R_KEY/LINKED: IMGLOCK_R_KEY names the R version, platform and base image, the same
# for every package; LINKED (64 hexadecimal digits) is this package's own part, the sha256 of
# the versions and hashes of the packages its compiled code is built against (LinkingTo).
#
# A GitHub package's source is a GitHub archive (one top folder, the package in it or in its
# RemoteSubdir) and its FIELDs are the DESCRIPTION lines remotes and pak add to it before the
# build (`RemoteType: github`, `RemoteSha: <commit>`, ...), which `imglock verify` reads back.
# Its binaries are kept under the commit too (NAME_VERSION_SHA256_COMMIT).
#
# The binary cache (/var/cache/imglock, a cache mount) is shared by every build on the builder,
# so any of them can write into it: a cached binary is installed only when the lock records its
# sha256 and the file has exactly that sha256. Binaries are kept by content, as
#   r/IMGLOCK_R_KEY/LINKED/NAME_VERSION_SHA256/BINARY_SHA256.tar.gz
# (the newest four of each package build). Anything else is said on stderr and the source
# tarball is fetched, verified against SHA256 before use, built, its binary's sha256 printed
# and the binary kept in the cache (when the cache is a mount). Any failure stops the build,
# naming the package. Builds are reproducible: the same source, key and base image give the
# same installed files and the same binary, byte for byte (see "Reproducible binaries").
#
# With IMGLOCK_R_CACHE (emit --binary-cache), a package the local cache does not serve is
# first asked of that shared cache, an OCI registry, and a package built is pushed to it
# (imglock-r-cache, pull and push).
#
# Each package installed leaves a record in the image, /usr/local/share/imglock/r-binaries/NAME,
# which `imglock verify IMAGE --record-binaries` reads into the lock. Its lines, each a field
# name, one space and the value:
#   # imglock R binary record 1
#   name NAME
#   version VERSION
#   source-sha256 SHA256
#   cache-key IMGLOCK_R_KEY/LINKED
#   binary-sha256 the installed binary's sha256
set -eu
fail() {
    echo "imglock: $*" >&2
    exit 1
}
[ "$#" -ge 6 ] || fail "imglock-r-install takes NAME VERSION SHA256 SOURCE BINARY_SHA256 LINKED [FIELD...], not: $*"
name=$1
version=$2
sha256=$3
source=$4
binary=$5
linked=$6
shift 6
# The DESCRIPTION fields of a GitHub package, one a line, and the two the install needs.
fields=
remote_sha=
remote_subdir=
newline='
'
for field in "$@"; do
    field_name=${field%%: *}
    case "$field_name" in
        '' | [!A-Za-z]* | *[!A-Za-z0-9]*) fail "R package $name $version: \`$field\` is not a DESCRIPTION field" ;;
    esac
    case "$field" in
        *": "*) ;;
        *) fail "R package $name $version: \`$field\` is not a DESCRIPTION field (NAME: value)" ;;
    esac
    case "$field" in
        *"$newline"*) fail "R package $name $version: the field $field_name has a line break" ;;
    esac
    value=${field#*: }
    case "$field_name" in
        RemoteSha) remote_sha=$value ;;
        RemoteSubdir) remote_subdir=$value ;;
    esac
    fields="$fields$field$newline"
done
is_sha256() {
    case "$1" in
        *[!0-9a-f]*) return 1 ;;
    esac
    [ "${#1}" -eq 64 ]
}
case "$name" in
    '' | [!A-Za-z]* | *[!A-Za-z0-9.]*) fail "the R package name \`$name\` is not one R allows" ;;
esac
case "$version" in
    '' | *[!0-9.-]*) fail "R package $name: the version \`$version\` is not one R allows" ;;
esac
is_sha256 "$sha256" || fail "R package $name $version: the sha256 \`$sha256\` is not 64 lowercase hexadecimal digits"
if [ "$binary" != "-" ] && ! is_sha256 "$binary"; then
    fail "R package $name $version: the binary sha256 \`$binary\` is neither \`-\` nor 64 lowercase hexadecimal digits"
fi
is_sha256 "$linked" || fail "R package $name $version: the linked-packages key \`$linked\` is not 64 lowercase hexadecimal digits"
case "/${IMGLOCK_R_KEY:?}/" in
    */../* | */./* | *//*) fail "R package $name $version: the cache key \`$IMGLOCK_R_KEY\` is not a plain relative path" ;;
esac
key=$IMGLOCK_R_KEY/$linked
if [ -n "$fields" ]; then
    sha_ok=yes
    case "$remote_sha" in
        '' | *[!0-9a-f]*) sha_ok=no ;;
    esac
    [ "$sha_ok" = yes ] && [ "${#remote_sha}" -eq 40 ] || fail "R package $name $version: the commit (RemoteSha) \`$remote_sha\` is not 40 lowercase hexadecimal digits"
    case "/$remote_subdir/" in
        */../* | */./* | *//*) [ -z "$remote_subdir" ] || fail "R package $name $version: the subdirectory \`$remote_subdir\` is not a plain relative path" ;;
    esac
    case "$remote_subdir" in
        *[!A-Za-z0-9._/-]*) fail "R package $name $version: the subdirectory \`$remote_subdir\` has characters other than letters, digits and ._/-" ;;
    esac
fi
cache=/var/cache/imglock
builds="$cache/r/$key/${name}_${version}_${sha256}${remote_sha:+_$remote_sha}"
records=/usr/local/share/imglock/r-binaries
set --
if [ -n "${IMGLOCK_R_LIBRARY:-}" ]; then
    mkdir -p "$IMGLOCK_R_LIBRARY"
    set -- -l "$IMGLOCK_R_LIBRARY"
fi
# A fixed build folder per package: compiled code then records the same paths in every build,
# and packages built at once (imglock-r-jobs) do not share one.
work=/tmp/imglock-r-build-$name
rm -rf "$work"
mkdir -p "$work"
trap 'rm -rf "$work"' EXIT

# --- Reproducible binaries -------------------------------------------------------------------
# R stamps an installed package with the clock: `Built:` in DESCRIPTION and the same date in
# Meta/package.rds (R 4.2 ignores SOURCE_DATE_EPOCH there). Every other file of an installed
# package is the same in every build, given the fixed build folder above and the library path.
# The build date is set to SOURCE_DATE_EPOCH (1980-01-01, as for wheels: the oldest date a zip
# holds), every mtime too, and the binary tarball is packed with sorted names, fixed owners and
# mtimes and a gzip without a name or time: the same source, key and base image give the same
# bytes on any machine, at any time.
export SOURCE_DATE_EPOCH=315532800
built_date=$(date -u -d "@$SOURCE_DATE_EPOCH" '+%Y-%m-%d %H:%M:%S UTC')

# The folder R installed the package into: in IMGLOCK_R_LIBRARY, or R's first library (where
# `R CMD INSTALL` puts it without `-l`).
installed_dir() {
    if [ -n "${IMGLOCK_R_LIBRARY:-}" ]; then
        echo "$IMGLOCK_R_LIBRARY/$name"
    else
        echo "$(R_DEFAULT_PACKAGES=NULL Rscript -e 'cat(.libPaths()[1])')/$name"
    fi
}

# Rewrites what the install wrote from the clock to SOURCE_DATE_EPOCH.
normalise_installed() {
    dir=$(installed_dir)
    [ -f "$dir/DESCRIPTION" ] || fail "R package $name $version: no DESCRIPTION in $dir after installing it"
    sed -i "s/^\(Built: [^;]*;[^;]*; \)[0-9][0-9-]* [0-9:]* UTC\(;.*\)\$/\1$built_date\2/" "$dir/DESCRIPTION"
    IMGLOCK_BUILT_DATE=$built_date Rscript --vanilla -e '
        dir <- commandArgs(TRUE)[1]
        file <- file.path(dir, "Meta", "package.rds")
        meta <- readRDS(file)
        meta$Built$Date <- Sys.getenv("IMGLOCK_BUILT_DATE")
        meta$DESCRIPTION[["Built"]] <- read.dcf(file.path(dir, "DESCRIPTION"), fields = "Built")[1, 1]
        saveRDS(meta, file)' "$dir" >"$work/normalise.log" 2>&1 || {
        cat "$work/normalise.log" >&2
        fail "R package $name $version: rewriting the build date of $dir/Meta/package.rds failed"
    }
    find "$dir" -exec touch -h -d "@$SOURCE_DATE_EPOCH" {} +
}

# Packs the installed package as R's binary tarball does (NAME/ at the top), byte for byte the
# same for the same tree: into $1.
pack_binary() {
    dir=$(installed_dir)
    tar --sort=name --mtime="@$SOURCE_DATE_EPOCH" --owner=0 --group=0 --numeric-owner \
        --format=gnu -C "$(dirname "$dir")" -cf - "$name" | gzip -n -9 >"$1" ||
        fail "packing the binary of R package $name $version failed"
}
# ----------------------------------------------------------------------------------------------

# Writes the image's record of the installed binary, whose sha256 is $1.
record() {
    mkdir -p "$records"
    printf '%s\n' "# imglock R binary record 1" "name $name" "version $version" \
        "source-sha256 $sha256" "cache-key $key" "binary-sha256 $1" >"$records/$name"
}

# Installs the cached binary the lock records, if the cache has it with that sha256; a copy is
# checked and installed, so nothing can change it in between.
from_cache() {
    if [ "$binary" = "-" ]; then
        if [ -d "$builds" ]; then
            echo "imglock: not installing the binary cache's R package $name $version: the lock records no binary sha256 for it (\`imglock verify IMAGE --record-binaries\` records one); building it from source" >&2
        fi
        return 1
    fi
    [ -f "$builds/$binary.tar.gz" ] || return 1
    copy="$work/${name}_${version}_cached.tar.gz"
    cp "$builds/$binary.tar.gz" "$copy" || return 1
    found=$(sha256sum "$copy" | cut -d " " -f 1)
    if [ "$found" != "$binary" ]; then
        echo "imglock: not installing the binary cache's R package $name $version: its sha256 is $found, but the lock records $binary; building it from source" >&2
        rm -f "$builds/$binary.tar.gz"
        return 1
    fi
    R CMD INSTALL "$@" "$copy" >"$work/log" 2>&1 || {
        echo "imglock: the cached binary of R package $name $version (sha256 $binary) did not install; building it from source" >&2
        return 1
    }
    normalise_installed
    touch "$builds/$binary.tar.gz" 2>/dev/null || true
}

if from_cache "$@"; then
    record "$binary"
    echo "imglock: R package $name $version installed from the binary cache"
    exit 0
fi
# The shared binary cache (imglock-r-cache), when the Dockerfile names one: tried before a build.
commit=${remote_sha:--}
from_registry() {
    [ -n "${IMGLOCK_R_CACHE:-}" ] || return 1
    pulled="$work/${name}_${version}_pulled.tar.gz"
    IMGLOCK_R_PACKAGE_KEY=$key imglock-r-cache pull "$name" "$version" "$sha256" "$commit" "$binary" "$pulled" || return 1
    R CMD INSTALL "$@" "$pulled" >"$work/log" 2>&1 || {
        echo "imglock: the shared binary cache's binary of R package $name $version did not install; building it from source" >&2
        return 1
    }
    normalise_installed
}
if from_registry "$@"; then
    record "$(sha256sum "$pulled" | cut -d " " -f 1)"
    echo "imglock: R package $name $version installed from the shared binary cache"
    exit 0
fi
tarball="$work/${name}_${version}.tar.gz"
case "$source" in
    context:*) cp "/imglock-context/${source#context:}" "$tarball" ;;
    *) curl -fsSL --retry 3 ${IMGLOCK_NETRC:+--netrc-file "$IMGLOCK_NETRC"} -o "$tarball" "$source" || fail "downloading R package $name $version from $source failed" ;;
esac
if ! echo "$sha256  $tarball" | sha256sum -c --status; then
    actual=$(sha256sum "$tarball" | cut -d " " -f 1)
    fail "checksum mismatch for R package $name $version from $source: the lock says sha256 $sha256, the download has $actual; refusing to install it"
fi
cd "$work"
if [ -n "$fields" ]; then
    # A GitHub archive: one top folder (owner-repo-<sha7>), the package in it or its subdirectory.
    mkdir "$work/src"
    tar -xzf "$tarball" -C "$work/src"
    set -- "$work/src"/*
    [ "$#" -eq 1 ] && [ -d "$1" ] || fail "the GitHub archive of R package $name $version from $source has no single top folder"
    package="$1${remote_subdir:+/$remote_subdir}"
    [ -f "$package/DESCRIPTION" ] || fail "the GitHub archive of R package $name $version has no DESCRIPTION in \`${remote_subdir:-its top folder}\`"
    # As remotes does: the source's own Remote*/Github* fields are replaced by the lock's.
    grep -Ev '^(Remote|Github)[A-Za-z0-9]*:' "$package/DESCRIPTION" >"$work/DESCRIPTION" || true
    [ -z "$(tail -c 1 "$work/DESCRIPTION")" ] || echo >>"$work/DESCRIPTION"
    printf '%s' "$fields" >>"$work/DESCRIPTION"
    mv "$work/DESCRIPTION" "$package/DESCRIPTION"
    set --
    if [ -n "${IMGLOCK_R_LIBRARY:-}" ]; then
        set -- -l "$IMGLOCK_R_LIBRARY"
    fi
else
    tar -xzf "$tarball"
    package="$work/$name"
fi
if ! R CMD INSTALL "$@" "$package" >"$work/log" 2>&1; then
    cat "$work/log" >&2
    fail "building R package $name $version failed"
fi
normalise_installed
built="$work/${name}_${version}_R_imglock.tar.gz"
pack_binary "$built"
made=$(sha256sum "$built" | cut -d " " -f 1)
if grep -qs " $cache " /proc/mounts; then
    mkdir -p "$builds"
    cp "$built" "$builds/.partial-$$" && mv "$builds/.partial-$$" "$builds/$made.tar.gz"
    # The newest four binaries of this build are kept (a hit refreshes one).
    ls -t "$builds" | tail -n +5 | while read -r old; do
        case "$old" in
            *.tar.gz) rm -f "$builds/$old" ;;
        esac
    done
fi
[ -z "${IMGLOCK_R_CACHE:-}" ] || IMGLOCK_R_PACKAGE_KEY=$key imglock-r-cache push "$name" "$version" "$sha256" "$commit" - "$built"
record "$made"
echo "imglock: R package $name $version built from source (binary sha256 $made)"
