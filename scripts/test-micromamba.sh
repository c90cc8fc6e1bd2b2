#!/bin/sh
# A stand-in for micromamba in the test base image (conda channels, and so micromamba itself,
# are out of reach here): `micromamba install -y -p PREFIX -f FILE` installs the explicit
# environment FILE into PREFIX with py-rattler (scripts/conda-install.py), as the emitted conda
# step asks. Anything else is refused. As micromamba does, it keeps the packages it extracts in
# the first folder of CONDA_PKGS_DIRS when that is set (the records in conda-meta name it), and
# appends the install to PREFIX/conda-meta/history under a `==> YYYY-MM-DD HH:MM:SS <==` line of
# the current time.
set -eu
[ "${1:-}" = install ] || { echo "test micromamba: only 'install -y -p PREFIX -f FILE' is supported" >&2; exit 2; }
shift
prefix= file=
while [ $# -gt 0 ]; do
    case "$1" in
        -y) shift ;;
        -p) prefix=$2; shift 2 ;;
        -f) file=$2; shift 2 ;;
        *) echo "test micromamba: unknown argument $1" >&2; exit 2 ;;
    esac
done
[ -n "$prefix" ] && [ -n "$file" ] || { echo "test micromamba: -p PREFIX and -f FILE are required" >&2; exit 2; }
set -- --prefix "$prefix"
pkgs=${CONDA_PKGS_DIRS:-}
pkgs=${pkgs%%,*}
[ -z "$pkgs" ] || set -- "$@" --cache-dir "$pkgs"
PYTHONPATH=/usr/local/lib/imglock/python python3 /usr/local/lib/imglock/conda-install.py "$@" "$file"
{
    date -u '+==> %Y-%m-%d %H:%M:%S <=='
    echo "# cmd: micromamba install -y -p $prefix -f $file"
    { grep -v '^[@#]' "$file" || true; } | sed 's/#.*//; s/^/+/'
} >> "$prefix/conda-meta/history"
