#!/usr/bin/env bash
# Records the slice of Debian's live archive that imglock's apt tests serve, into
# fixtures/debian/, laid out as a mirror (`debian/dists/bookworm/...`,
# `debian-security/dists/bookworm-security/...`):
#   - each suite's InRelease (the signed Release) and main/binary-amd64/Packages.xz;
#     binary-all/Packages.xz too when apt would fetch it: the Release lists `all` among its
#     Architectures (or has no such field) and lacks `No-Support-for-Architecture-all:
#     Packages` (which says Architecture: all packages are in the per-architecture files);
#   - with `Acquire-By-Hash: yes`, each index is downloaded as apt does, from
#     `.../by-hash/SHA256/<sha256>` (immune to the mirror updating between the two downloads),
#     kept at its own path, with the by-hash path a symbolic link to it;
#   - Debian's archive keyring, /usr/share/keyrings/debian-archive-keyring.gpg out of bookworm's
#     debian-archive-keyring .deb (found through the recorded Packages index), as
#     fixtures/debian/debian-archive-keyring.gpg.
# Every Packages file is checked against its InRelease's SHA256 line before it is kept (a mirror
# can update between the two downloads; the script then starts the suite again).
#
# Usage: scripts/record-debian.sh [OUT_DIR]   (default: fixtures/debian; needs curl, xz,
# sha256sum, dpkg-deb or ar + tar, and network access to deb.debian.org)
set -euo pipefail

here="$(cd "$(dirname "$0")/.." && pwd)"
out="${1:-$here/fixtures/debian}"
mirror="https://deb.debian.org"
arch=amd64
component=main

fetch() { # URL DEST
    mkdir -p "$(dirname "$2")"
    curl --fail --silent --show-error --location --retry 3 -o "$2.part" "$1"
    mv "$2.part" "$2"
}

# The SHA256 line of PATH in the InRelease file RELEASE: "<sha256> <size>".
release_sha256() { # RELEASE PATH
    awk -v path="$2" '
        /^[A-Za-z]/ { in_sha = ($1 == "SHA256:") ; next }
        in_sha && $3 == path { print $1, $2; exit }
    ' "$1"
}

record_index() { # SUITE_DIR RELEASE RELPATH URL_BASE
    local suite_dir="$1" release="$2" relpath="$3" base="$4"
    local expected
    expected="$(release_sha256 "$release" "$relpath")"
    if [ -z "$expected" ]; then
        echo "record-debian: $relpath is not listed in $release" >&2
        return 1
    fi
    local url="$base/$relpath"
    local by_hash
    by_hash="$(dirname "$relpath")/by-hash/SHA256/${expected%% *}"
    if grep -q '^Acquire-By-Hash: yes$' "$release"; then
        url="$base/$by_hash"
    fi
    fetch "$url" "$suite_dir/$relpath"
    if grep -q '^Acquire-By-Hash: yes$' "$release"; then
        mkdir -p "$suite_dir/$(dirname "$by_hash")"
        ln -sf "../../$(basename "$relpath")" "$suite_dir/$by_hash"
    fi
    local got
    got="$(sha256sum "$suite_dir/$relpath" | cut -d' ' -f1) $(stat -c %s "$suite_dir/$relpath")"
    if [ "$got" != "$expected" ]; then
        echo "record-debian: $relpath is '$got', its Release says '$expected'" >&2
        return 1
    fi
}

# Whether apt fetches binary-all for the Release RELEASE.
fetches_all() { # RELEASE
    if grep -q '^No-Support-for-Architecture-all: Packages$' "$1"; then
        return 1
    fi
    local architectures
    architectures="$(sed -n 's/^Architectures: //p' "$1")"
    [ -z "$architectures" ] || [[ " $architectures " == *" all "* ]]
}

record_suite() { # ARCHIVE SUITE
    local archive="$1" suite="$2"
    local base="$mirror/$archive/dists/$suite"
    local suite_dir="$out/$archive/dists/$suite"
    for attempt in 1 2 3; do
        rm -rf "$suite_dir"
        fetch "$base/InRelease" "$suite_dir/InRelease"
        local ok=1
        record_index "$suite_dir" "$suite_dir/InRelease" \
            "$component/binary-$arch/Packages.xz" "$base" || ok=0
        if fetches_all "$suite_dir/InRelease"; then
            record_index "$suite_dir" "$suite_dir/InRelease" \
                "$component/binary-all/Packages.xz" "$base" || ok=0
        fi
        [ "$ok" = 1 ] && return 0
        echo "record-debian: $suite changed while it was recorded (attempt $attempt), again" >&2
    done
    return 1
}

record_suite debian bookworm
record_suite debian-security bookworm-security

# Debian's archive keyring, as bookworm ships it.
keyring_deb="$(xz -dc "$out/debian/dists/bookworm/$component/binary-$arch/Packages.xz" |
    awk '/^Package: / { p = $2 } p == "debian-archive-keyring" && /^Filename: / && !found { print $2; found = 1 }')"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
fetch "$mirror/debian/$keyring_deb" "$work/keyring.deb"
if command -v dpkg-deb >/dev/null; then
    dpkg-deb -x "$work/keyring.deb" "$work/root"
else
    (cd "$work" && ar x keyring.deb && mkdir root && tar -C root -xf data.tar.*)
fi
cp "$work/root/usr/share/keyrings/debian-archive-keyring.gpg" "$out/debian-archive-keyring.gpg"
echo "record-debian: recorded into $out (keyring from $keyring_deb)"
