#!/usr/bin/env bash
# Records the .deb files the apt build tests install, from Debian's live archive into the
# recorded mirror (fixtures/debian, made by scripts/record-debian.sh), each at the `Filename` its
# recorded Packages index gives (`debian/pool/main/...`, `debian-security/pool/...`): the
# loopback server then serves them where the lock's URLs point.
#
# For every NAME given (default: the set tests/it/apt_build.rs locks), the recorded suites'
# candidates are compared as apt compares them: the highest version wins, and of equal versions
# the first suite (bookworm before bookworm-security), as the resolver picks. That one's
# Filename, SHA256 and Size come from its index; the file is downloaded and kept only when both
# match. Keep the set small: these files are committed.
#
# Usage: scripts/record-debs.sh [NAME...]   (needs curl, xz, sha256sum, dpkg for its version
# order, and access to deb.debian.org; run scripts/record-debian.sh first when the indexes change)
set -euo pipefail

here="$(cd "$(dirname "$0")/.." && pwd)"
out="$here/fixtures/debian"
mirror="https://deb.debian.org"
arch=amd64
if [ "$#" -eq 0 ]; then
    set -- libzstd-dev libzstd1 libsodium-dev libsodium23
fi

# "version Filename sha256 size" of every stanza of NAME in the Packages index INDEX (xz).
entries() { # INDEX NAME
    xz -dc "$1" | awk -v name="$2" '
        /^Package: / { package = $2; version = ""; file = ""; sum = ""; size = "" }
        package == name && /^Version: / { version = $2 }
        package == name && /^Filename: / { file = $2 }
        package == name && /^SHA256: / { sum = $2 }
        package == name && /^Size: / { size = $2 }
        /^$/ && package == name && file != "" { print version, file, sum, size; package = "" }
        END { if (package == name && file != "") print version, file, sum, size }
    '
}

recorded=0
for name in "$@"; do
    best=""
    for archive in debian debian-security; do
        for index in "$out/$archive"/dists/*/main/binary-{$arch,all}/Packages.xz; do
            [ -f "$index" ] || continue
            while read -r version file sum size; do
                if [ -z "$best" ] || dpkg --compare-versions "$version" gt "${best%% *}"; then
                    best="$version $archive/$file $sum $size"
                fi
            done < <(entries "$index" "$name")
        done
    done
    if [ -z "$best" ]; then
        echo "record-debs: no recorded index lists $name" >&2
        exit 1
    fi
    read -r _ path sum size <<<"$best"
    dest="$out/$path"
    if [ -f "$dest" ] && [ "$(sha256sum "$dest" | cut -d' ' -f1)" = "$sum" ]; then
        continue
    fi
    mkdir -p "$(dirname "$dest")"
    curl --fail --silent --show-error --location --retry 3 -o "$dest.part" "$mirror/$path"
    got="$(sha256sum "$dest.part" | cut -d' ' -f1) $(stat -c %s "$dest.part")"
    if [ "$got" != "$sum $size" ]; then
        rm -f "$dest.part"
        echo "record-debs: $path is '$got', its index says '$sum $size'" >&2
        exit 1
    fi
    mv "$dest.part" "$dest"
    recorded=$((recorded + 1))
    echo "record-debs: $path ($size bytes)"
done
echo "record-debs: $recorded file(s) recorded into $out"
