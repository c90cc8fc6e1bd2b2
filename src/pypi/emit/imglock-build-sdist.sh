#!/bin/sh
# imglock-build-sdist PYTHON NAME VERSION SHA256 BINARY_SHA256 KEY SDIST BUILD_REQUIREMENT...
# Builds one locked Python sdist into a wheel inside the image, from locked inputs only, and
# installs the wheel with PYTHON (the interpreter of the layer's environment). SDIST is a
# requirements line naming the exact sdist file with its --hash; each BUILD_REQUIREMENT one of
# its locked build dependencies (wheels), likewise. BINARY_SHA256 is the sha256 of the wheel the
# lock records for this sdist and KEY (the image's Python, platform and base image), or - when
# it records none.
#
# The wheel cache (/var/cache/imglock/wheels, a cache mount) is shared by every build on the
# builder, so any of them can write into it: a cached wheel is installed only when the lock
# records its sha256 and the file has exactly that sha256. Wheels are kept by content, as
#   KEY/NAME/VERSION/SHA256/BINARY_SHA256/FILENAME.whl
# (the newest four of each sdist). Anything else is said on stderr and the sdist is built: in a
# throw-away virtualenv holding exactly its build dependencies (no index, hashes required), with
# `pip wheel --no-build-isolation` and a fixed SOURCE_DATE_EPOCH, so the same inputs give the
# same wheel. Any failure stops the build, naming the sdist.
#
# Each sdist installed leaves a record in the image, /usr/local/share/imglock/python-wheels/NAME,
# which `imglock verify IMAGE --record-binaries` reads into the lock. Its lines, each a field
# name, one space and the value:
#   # imglock Python wheel record 1
#   name NAME
#   version VERSION
#   source-sha256 SHA256
#   cache-key KEY
#   binary-sha256 the installed wheel's sha256
set -eu
fail() {
    echo "imglock: $*" >&2
    exit 1
}
[ "$#" -ge 8 ] || fail "imglock-build-sdist takes PYTHON NAME VERSION SHA256 BINARY_SHA256 KEY SDIST BUILD_REQUIREMENT..., not: $*"
python=$1
name=$2
version=$3
sha256=$4
binary=$5
key=$6
sdist=$7
shift 7
is_sha256() {
    case "$1" in
        *[!0-9a-f]*) return 1 ;;
    esac
    [ "${#1}" -eq 64 ]
}
case "$name" in
    '' | [!a-z0-9]* | *[!a-z0-9-]*) fail "the Python package name \`$name\` is not a normalized name" ;;
esac
case "$version" in
    '' | [!0-9]* | *[!0-9a-z.!+-]*) fail "Python package $name: the version \`$version\` is not a normalized version" ;;
esac
is_sha256 "$sha256" || fail "Python package $name $version: the sha256 \`$sha256\` is not 64 lowercase hexadecimal digits"
if [ "$binary" != "-" ] && ! is_sha256 "$binary"; then
    fail "Python package $name $version: the wheel sha256 \`$binary\` is neither \`-\` nor 64 lowercase hexadecimal digits"
fi
case "/$key/" in
    */../* | */./* | *//* | *[!A-Za-z0-9._/-]*) fail "Python package $name $version: the cache key \`$key\` is not a plain relative path" ;;
esac
label="$name $version"
cache=/var/cache/imglock/wheels
builds="$cache/$key/$name/$version/$sha256"
records=/usr/local/share/imglock/python-wheels
pip_options="--no-cache-dir --disable-pip-version-check --no-index"
# A fixed build folder and clock: the wheel then holds the same paths and times in every build.
work=/tmp/imglock-build-$name
rm -rf "$work"
mkdir -p "$work/wheel"
trap 'rm -rf "$work"' EXIT
export SOURCE_DATE_EPOCH=315532800 PYTHONHASHSEED=0

# The one wheel in the folder $1, or nothing.
the_wheel() {
    set -- "$1"/*.whl
    [ "$#" -eq 1 ] && [ -f "$1" ] && echo "$1"
}

# Copies the cached wheel the lock records into the work folder, if the cache has it with that
# sha256: the copy is checked and installed, so nothing can change it in between.
from_cache() {
    if [ "$binary" = "-" ]; then
        if [ -d "$builds" ]; then
            echo "imglock: not installing the wheel cache's $label: the lock records no wheel sha256 for it (\`imglock verify IMAGE --record-binaries\` records one); building it from its sdist" >&2
        fi
        return 1
    fi
    cached=$(the_wheel "$builds/$binary") || return 1
    cp "$cached" "$work/wheel/" || return 1
    copy=$(the_wheel "$work/wheel")
    found=$(sha256sum "$copy" | cut -d " " -f 1)
    if [ "$found" != "$binary" ]; then
        echo "imglock: not installing the wheel cache's $label: its sha256 is $found, but the lock records $binary; building it from its sdist" >&2
        rm -f "$copy"
        rm -rf "$builds/$binary"
        return 1
    fi
    touch "$builds/$binary" 2>/dev/null || true
}

# Builds the sdist into the work folder's wheel, from its locked build dependencies only, and
# keeps the wheel in the cache.
build() {
    venv="$work/venv"
    # Where the image's Python has no ensurepip (Debian's without python3-venv), a virtualenv
    # without pip that the image's pip installs into (pip --python, pip 22.3+).
    { python3 -m venv "$venv" >/dev/null 2>&1 || { rm -rf "$venv" && python3 -m venv --without-pip "$venv"; }; }
    if "$venv/bin/python" -m pip --version >/dev/null 2>&1; then
        set -- "$venv/bin/python" -m pip
    else
        set -- python3 -m pip --python "$venv/bin/python"
    fi
    printf '%s\n' "$sdist" >"$work/sdist.txt"
    # shellcheck disable=SC2086
    "$@" install --no-deps --require-hashes --only-binary :all: $pip_options -r "$work/build-requirements.txt" >"$work/log" 2>&1 || {
        cat "$work/log" >&2
        fail "installing the locked build dependencies of $label failed"
    }
    # shellcheck disable=SC2086
    "$@" wheel --no-deps --no-build-isolation --require-hashes $pip_options -w "$work/wheel" -r "$work/sdist.txt" >"$work/log" 2>&1 || {
        cat "$work/log" >&2
        fail "building $label from its sdist failed"
    }
    built=$(the_wheel "$work/wheel") || fail "building $label from its sdist made no single wheel"
    made=$(sha256sum "$built" | cut -d " " -f 1)
    if [ ! -d "$builds/$made" ]; then
        mkdir -p "$builds/.partial-$$"
        cp "$built" "$builds/.partial-$$/"
        mv -T "$builds/.partial-$$" "$builds/$made" 2>/dev/null || rm -rf "$builds/.partial-$$"
    fi
    # The newest four wheels of this sdist are kept (a hit refreshes one).
    ls -t "$builds" | tail -n +5 | while read -r old; do
        if is_sha256 "$old"; then rm -rf "${builds:?}/$old"; fi
    done
    echo "imglock: built $label from its sdist (wheel sha256 $made)"
}

printf '%s\n' "$@" >"$work/build-requirements.txt"
if from_cache; then
    echo "imglock: $label: its wheel from the build cache"
else
    build
fi
wheel=$(the_wheel "$work/wheel")
PIP_BREAK_SYSTEM_PACKAGES=1 "$python" -m pip install --no-deps $pip_options "$wheel" >"$work/log" 2>&1 || {
    cat "$work/log" >&2
    fail "installing the wheel built from $label failed"
}
mkdir -p "$records"
printf '%s\n' "# imglock Python wheel record 1" "name $name" "version $version" \
    "source-sha256 $sha256" "cache-key $key" "binary-sha256 $(sha256sum "$wheel" | cut -d " " -f 1)" \
    >"$records/$name"
