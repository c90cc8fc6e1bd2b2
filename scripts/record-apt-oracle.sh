#!/usr/bin/env bash
# Records apt's own resolutions, the oracle of imglock's apt solver, into
# fixtures/debian/oracle/: in the test base image (scripts/base-image.sh), apt is pointed at the
# recorded fixture archive (fixtures/debian, bookworm and bookworm-security main for amd64, as
# file: sources checked against the recorded keyring) and asked
# `apt-get install --simulate --no-install-recommends` for each request below. Kept:
#   - status: the image's dpkg status, reduced to what the solver reads of an installed package
#     (Package, Status, Version, Architecture, Multi-Arch, Provides);
#   - one file per request (`<name>.txt`): a `# request:` line, then each package apt would
#     install (`Inst`), as `name version`, sorted.
# Run it again after scripts/record-debian.sh records a new archive (the image's status and the
# archive must be of about the same day: apt upgrades what the archive has newer).
#
# Usage: scripts/record-apt-oracle.sh   (needs root and buildah; no network)
set -euo pipefail
export STORAGE_DRIVER=vfs BUILDAH_ISOLATION=chroot
here="$(cd "$(dirname "$0")/.." && pwd)"
fixture="$here/fixtures/debian"
out="$fixture/oracle"
image=localhost/imglock-test-base:bookworm-r-python-conda
requests=(
    "openjdk-17-jdk-headless"
    "build-essential"
    "libxml2-dev libcurl4-openssl-dev libssl-dev"
    "samtools"
    "python3-venv"
    "libgdal-dev"
    "git"
    "cmake"
    "libpq-dev"
    "default-jdk-headless"
    "libmagick++-dev"
    "exim4-daemon-light"
)

container=$(buildah from "$image")
trap 'buildah rm "$container" >/dev/null' EXIT
rm -rf "$out"
mkdir -p "$out"

buildah run "$container" -- cat /var/lib/dpkg/status | awk '
    /^(Package|Status|Version|Architecture|Multi-Arch|Provides):/ { print; next }
    /^$/ { print }
' >"$out/status"

setup='
set -e
cat >/tmp/oracle.list <<LIST
deb [signed-by=/fixture/debian-archive-keyring.gpg] file:/fixture/debian bookworm main
deb [signed-by=/fixture/debian-archive-keyring.gpg] file:/fixture/debian-security bookworm-security main
LIST
mkdir -p /tmp/lists/partial /tmp/cache/archives/partial
'
opts="-o Dir::Etc::SourceList=/tmp/oracle.list -o Dir::Etc::SourceParts=/nonexistent"
opts+=" -o Dir::State::Lists=/tmp/lists -o Dir::Cache=/tmp/cache -o Acquire::Languages=none"
opts+=" -o Debug::NoLocking=1"
script="$setup apt-get $opts update -qq >/dev/null"
for request in "${requests[@]}"; do
    file="$out/${request%% *}.txt"
    script+="
echo '@@ $file'
echo '# request: $request'
apt-get $opts install --simulate --no-install-recommends -qq $request >/tmp/simulated 2>&1 \
    || { echo 'apt-get failed for $request:' >&2; cat /tmp/simulated >&2; exit 1; }
sed -n 's/^Inst \([^ ]*\) \(\[[^]]*\] \)\{0,1\}(\([^ ]*\) .*/\1 \3/p' /tmp/simulated | sort"
done
buildah run -v "$fixture:/fixture:ro" "$container" -- sh -c "$script" | awk '
    /^@@ / { file = $2; next }
    { print > file }
'
ls -l "$out"
