#!/usr/bin/env bash
# The test command: installs what the tests need, then runs formatting, lints and the whole suite.
#
# Installs (when missing, with apt-get as root): R (r-base-core, r-base-dev) to rebuild the R
# fixtures and to run the benchmark's anchor; buildah, skopeo, debootstrap and docker-registry (a
# loopback OCI registry the base image is read from) for the real image
# builds, and the base image they build on (scripts/base-image.sh, kept between runs); from PyPI,
# uv (the oracle for Python resolution) and py-rattler (the oracle for conda solves and the
# installer of the real conda install test), with zstandard to rebuild the conda fixtures, and
# keyring with keyrings.alt (the `keyring` command of the keyring credentials test); and
# Debian's maven with its dependency plugin, the oracle for Maven resolution; GNU time for the
# memory tests; git for the PyPI git-reference tests; man-db to render the manual pages; xmllint
# (libxml2-utils) to validate the JUnit report against its schema.
# Under CI=true a test whose tool is missing fails.
set -euo pipefail
cd "$(dirname "$0")/.."

need_apt=()
command -v R >/dev/null 2>&1 || need_apt+=(r-base-core r-base-dev)
command -v buildah >/dev/null 2>&1 || need_apt+=(buildah)
command -v skopeo >/dev/null 2>&1 || need_apt+=(skopeo)
command -v debootstrap >/dev/null 2>&1 || need_apt+=(debootstrap)
# A real OCI registry on loopback: the base image is read from it over the distribution API.
command -v docker-registry >/dev/null 2>&1 || need_apt+=(docker-registry)
# The registry's token server signs its tokens with the openssl command.
command -v openssl >/dev/null 2>&1 || need_apt+=(openssl)
# Real Maven (and the dependency plugin, from Debian's own plugin repository) is the Maven oracle.
command -v mvn >/dev/null 2>&1 || need_apt+=(maven)
[ -d /usr/share/maven-repo/org/apache/maven/plugins/maven-dependency-plugin ] ||
    need_apt+=(libmaven-dependency-plugin-java)
# The dependency plugin's own dependencies that Debian packages apart from it.
[ -d /usr/share/maven-repo/junit/junit ] || need_apt+=(junit4)
# git: the PyPI git-reference tests make and serve real repositories, and imglock runs it.
command -v git >/dev/null 2>&1 || need_apt+=(git)
# man renders the manual pages `imglock man` prints.
command -v man >/dev/null 2>&1 || need_apt+=(man-db)
# `script` gives the terminal tests their pseudo-terminal.
command -v script >/dev/null 2>&1 || need_apt+=(bsdutils)
# GNU time measures the peak memory of a resolve refusing a decompression bomb.
[ -x /usr/bin/time ] || need_apt+=(time)
# xmllint validates `verify --format junit` against the JUnit schema (fixtures/junit/).
command -v xmllint >/dev/null 2>&1 || need_apt+=(libxml2-utils)
if [ ${#need_apt[@]} -gt 0 ]; then
    if [ "$(id -u)" = 0 ]; then
        echo "Installing ${need_apt[*]} ..."
        apt-get update -qq
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${need_apt[@]}" >/dev/null
    else
        echo "warning: ${need_apt[*]} missing and not root; tests that need them will skip (or fail under CI=true)" >&2
    fi
fi

# uv is the oracle the PyPI tests compare pins with; py-rattler the conda tests' oracle.
command -v uv >/dev/null 2>&1 || python3 -m pip install --quiet --disable-pip-version-check uv
python3 -c "import rattler, zstandard" 2>/dev/null ||
    python3 -m pip install --quiet --disable-pip-version-check py-rattler==0.28.0 zstandard==0.25.0
# The `keyring` command with a plain-file backend: the keyring credentials test stores its password.
{ command -v keyring >/dev/null 2>&1 && python3 -c "import keyrings.alt" 2>/dev/null; } ||
    python3 -m pip install --quiet --disable-pip-version-check keyring==25.7.0 keyrings.alt==5.0.2

if [ "$(id -u)" = 0 ] && command -v buildah >/dev/null 2>&1; then
    bash scripts/base-image.sh
fi

cargo fmt --check
cargo clippy --all-targets --locked -- -D warnings
# The developer docs: every public item documented (the library denies missing docs), every link
# resolving.
RUSTDOCFLAGS="-D warnings" cargo doc --no-deps --document-private-items --locked
# buildah as this machine runs it (no container runtime, storage without overlay): the image
# tests and the isolated sdist metadata builds use it. --no-fail-fast: one failing test must
# not hide the others.
export STORAGE_DRIVER=vfs BUILDAH_ISOLATION=chroot
# The failing tests' messages are printed once more at the very end: a long CI log is often read
# by its head and tail only, and the failures sit in its middle, before the benches.
log=target/test-output.log
mkdir -p target
status=0
cargo test --all-targets --locked --no-fail-fast 2>&1 | tee "$log" || status=$?
if [ "$status" -ne 0 ]; then
    echo "==== the failures again (the whole output: $log) ===="
    sed -n '/^failures:$/,/^test result:/p' "$log"
    # A bench run as a test has no summary of its own: its panic is the message.
    grep -A2 "^thread '.*' panicked at benches/" "$log" || true
fi
exit "$status"
