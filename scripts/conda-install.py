#!/usr/bin/env python3
"""Install a conda explicit environment file into a prefix with py-rattler.

    pip install py-rattler

    conda-install.py --prefix DIR [--platform linux-64] [--cache-dir DIR] FILE

FILE is a conda explicit environment file:

    @EXPLICIT
    # platform: linux-64            (optional; comments and blank lines ignored)
    http://127.0.0.1:8000/main/linux-64/pkg-1.0-h0_0.conda#<sha256>
    file:///abs/channel/noarch/pkg-1.0-py_0.tar.bz2#<sha256>

Every package line MUST carry a hash after '#': a 64-hex sha256 (checked), or
a 32-hex md5 (checked, accepted for old files). A line without one is an error.

For each line the package is downloaded (urllib; http, https or file URLs) to a
temporary directory, its hash is checked against the line (exit 1 naming the
package on a mismatch), and its `RepoDataRecord` is read from the archive
itself (`RepoDataRecord.from_package_archive`, i.e. info/index.json plus the
file's size/sha256/md5). The record's url/channel are set back to the
original URL, and `rattler.install` links exactly those packages into DIR
(it downloads again from the URL into its cache and checks the sha256 once
more). Link scripts are not run. After the install, DIR/conda-meta/
<name>-<version>-<build>.json is checked for every package.

Exit status: 0 on success, 1 on any failure (bad hash, download error, install
error, missing conda-meta record), 2 on usage errors.
"""

import argparse
import asyncio
import hashlib
import os
import re
import shutil
import sys
import tempfile
import urllib.error
import urllib.parse
import urllib.request

import rattler
from rattler import RepoDataRecord

HEX64 = re.compile(r"^[0-9a-fA-F]{64}$")
HEX32 = re.compile(r"^[0-9a-fA-F]{32}$")


def fail(msg, code=1):
    print(f"conda-install: {msg}", file=sys.stderr)
    sys.stdout.flush()
    sys.stderr.flush()
    # py-rattler 0.28 can segfault during interpreter shutdown; skip it.
    os._exit(code)


def parse_explicit(path):
    """Return (platform or None, [(url, hash)])."""
    try:
        with open(path, encoding="utf-8") as f:
            lines = f.read().splitlines()
    except OSError as e:
        fail(f"cannot read {path}: {e}", 2)
    platform = None
    entries = []
    seen_explicit = False
    for n, raw in enumerate(lines, 1):
        line = raw.strip()
        if not line:
            continue
        if line.startswith("#"):
            m = re.match(r"#\s*platform:\s*(\S+)", line)
            if m:
                platform = m.group(1)
            continue
        if line == "@EXPLICIT":
            seen_explicit = True
            continue
        if line.startswith("@"):
            continue  # other @ directives are informational
        if not seen_explicit:
            fail(f"{path}:{n}: package line before @EXPLICIT", 2)
        url, sep, digest = line.partition("#")
        if not sep or not (HEX64.match(digest) or HEX32.match(digest)):
            fail(f"{path}:{n}: package line needs URL#sha256, got {line!r}")
        entries.append((url, digest.lower()))
    if not seen_explicit:
        fail(f"{path}: no @EXPLICIT line", 2)
    return platform, entries


def file_name_of(url):
    return os.path.basename(urllib.parse.unquote(urllib.parse.urlparse(url).path))


def channel_of(url):
    # <channel>/<subdir>/<file>  ->  <channel>/
    return url.rsplit("/", 2)[0] + "/"


def download(url, dest):
    try:
        with urllib.request.urlopen(url, timeout=120) as r, open(dest, "wb") as f:
            shutil.copyfileobj(r, f)
    except (urllib.error.URLError, OSError) as e:
        fail(f"{file_name_of(url)}: download of {url} failed: {e}")


def check_hash(path, digest, name):
    h = hashlib.sha256() if len(digest) == 64 else hashlib.md5()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    got = h.hexdigest()
    if got != digest:
        kind = "sha256" if len(digest) == 64 else "md5"
        fail(f"{name}: {kind} mismatch: expected {digest}, got {got}")


async def run(args):
    platform, entries = parse_explicit(args.file)
    platform = args.platform or platform
    if not entries:
        print("conda-install: no packages in the file; nothing to do", file=sys.stderr)
    prefix = os.path.abspath(args.prefix)

    with tempfile.TemporaryDirectory(prefix="conda-install-") as tmp:
        records = []
        names = set()
        for i, (url, digest) in enumerate(entries):
            fn = file_name_of(url)
            if not (fn.endswith(".conda") or fn.endswith(".tar.bz2")):
                fail(f"{fn}: not a .conda or .tar.bz2 package URL: {url}")
            d = os.path.join(tmp, str(i))
            os.makedirs(d)
            local = os.path.join(d, fn)
            download(url, local)
            check_hash(local, digest, fn)
            try:
                rec = await RepoDataRecord.from_package_archive(local)
            except Exception as e:  # noqa: BLE001
                fail(f"{fn}: cannot read package metadata: {e}")
            if rec.name.normalized in names:
                fail(f"{fn}: package {rec.name.normalized} appears twice")
            names.add(rec.name.normalized)
            rec.url = url
            rec.channel = channel_of(url)
            rec.file_name = fn
            records.append(rec)

        # every package verified: only now touch the prefix
        os.makedirs(prefix, exist_ok=True)
        cache = args.cache_dir or os.path.join(tmp, "pkgs")
        # What earlier installs left in the prefix stays: it is part of the wanted environment
        # (a noarch: python package finds its python there), and the installer knows it is there.
        meta_dir = os.path.join(prefix, "conda-meta")
        installed = [
            rattler.PrefixRecord.from_path(os.path.join(meta_dir, name))
            for name in sorted(os.listdir(meta_dir)) if name.endswith(".json")
        ] if os.path.isdir(meta_dir) else []
        try:
            await rattler.install(
                records + installed,
                installed_packages=installed,
                target_prefix=prefix,
                cache_dir=cache,
                platform=rattler.Subdir(platform) if platform else None,
                execute_link_scripts=False,
                show_progress=False,
            )
        except Exception as e:  # noqa: BLE001
            fail(f"install into {prefix} failed: {e}")

    missing = []
    for r in records:
        meta = os.path.join(prefix, "conda-meta", f"{r.name.normalized}-{r.version}-{r.build}.json")
        if not os.path.isfile(meta):
            missing.append(meta)
    if missing:
        fail("install finished but conda-meta records are missing: " + ", ".join(missing))
    for r in sorted(records, key=lambda r: r.name.normalized):
        print(f"installed {r.name.normalized}-{r.version}-{r.build}")
    return 0


def main():
    ap = argparse.ArgumentParser(
        description="Install a conda @EXPLICIT file (URL#sha256 lines) into a prefix with py-rattler.")
    ap.add_argument("--prefix", required=True, help="target environment directory")
    ap.add_argument("--platform", default=None,
                    help="target subdir (default: the file's '# platform:' line, else this host)")
    ap.add_argument("--cache-dir", default=None,
                    help="package cache (default: a temporary directory, removed afterwards)")
    ap.add_argument("file", metavar="FILE")
    args = ap.parse_args()
    code = asyncio.run(run(args))
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)


if __name__ == "__main__":
    main()
