#!/usr/bin/env python3
"""Reference conda solver ("oracle") for imglock's tests, built on py-rattler.

    pip install py-rattler

    conda-oracle.py --channel URL [--channel URL ...] --platform linux-64 \
        [--virtual __glibc=2.17] [--virtual __linux=5.10] [--virtual __unix=0] \
        [--virtual __cuda=11.8] [--exclude-newer 2023-01-01T00:00:00Z] \
        [--timestamp-policy require-timestamp|allow-missing|require-indexed-timestamp] \
        [--package-format prefer-conda|only-conda|only-tar-bz2|both] \
        SPEC [SPEC ...]

Channel URLs are file:///abs/path, a plain local directory, or
http(s)://host[:port]/path. For each channel `<channel>/<platform>/repodata.json`
and `<channel>/noarch/repodata.json` are read (http ones are downloaded to a
temporary directory first with urllib, because rattler.SparseRepoData reads
only local files). The solve uses STRICT channel priority, channel order on the
command line = priority, and prefers `.conda` over `.tar.bz2` when both exist.

--virtual NAME=VERSION[=BUILD] adds a virtual package (build defaults to "0").
No virtual packages are detected from the host: only the ones given count.

--exclude-newer takes an ISO 8601 date or date-time (no zone = UTC); records
whose timestamp is after it are dropped (a record exactly at it is kept).
Records with NO timestamp are dropped too under py-rattler's default
--timestamp-policy require-timestamp; pass --timestamp-policy allow-missing to
keep them.

Prints a JSON list to stdout, sorted by name, of objects with keys
name, version, build, build_number, subdir, channel, url, sha256, md5, size,
file_name. On an unsatisfiable request prints the solver's message to stderr
and exits 1; exits 2 on usage/IO errors. Installs nothing.
"""

import argparse
import asyncio
import datetime
import json
import os
import shutil
import sys
import tempfile
import urllib.error
import urllib.parse
import urllib.request

import rattler
from rattler import (
    Channel,
    ChannelPriority,
    GenericVirtualPackage,
    PackageName,
    SparseRepoData,
    Version,
)
from rattler.exceptions import SolverError
from rattler.package import BuildString
from rattler.repo_data.sparse import PackageFormatSelection


def die(msg, code=2):
    print(f"conda-oracle: {msg}", file=sys.stderr)
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)  # see the note in main() about shutdown segfaults


def normalize_channel(url):
    """Return (channel url without trailing slash, scheme)."""
    parsed = urllib.parse.urlparse(url)
    if parsed.scheme in ("http", "https", "file"):
        return url.rstrip("/"), parsed.scheme
    if parsed.scheme == "" and (os.path.isabs(url) or os.path.isdir(url)):
        path = os.path.abspath(url)
        return "file://" + urllib.request.pathname2url(path), "file"
    die(f"unsupported channel URL {url!r} (use file:///..., http://... or a local path)")


def fetch_repodata(channel_url, scheme, subdir, tmp):
    """Return a local path to <channel>/<subdir>/repodata.json, or None if absent."""
    if scheme == "file":
        path = urllib.request.url2pathname(urllib.parse.urlparse(channel_url).path)
        p = os.path.join(path, subdir, "repodata.json")
        return p if os.path.isfile(p) else None
    url = f"{channel_url}/{subdir}/repodata.json"
    d = os.path.join(tmp, str(len(os.listdir(tmp))))
    os.makedirs(d)
    dest = os.path.join(d, "repodata.json")
    try:
        with urllib.request.urlopen(url, timeout=60) as r, open(dest, "wb") as f:
            shutil.copyfileobj(r, f)
    except urllib.error.HTTPError as e:
        if e.code == 404:
            return None
        die(f"GET {url}: HTTP {e.code}")
    except urllib.error.URLError as e:
        die(f"GET {url}: {e.reason}")
    return dest


def parse_virtual(s):
    parts = s.split("=")
    if len(parts) not in (2, 3) or not parts[0] or not parts[1]:
        die(f"--virtual wants NAME=VERSION[=BUILD], got {s!r}")
    name, version = parts[0], parts[1]
    build = parts[2] if len(parts) == 3 else "0"
    return GenericVirtualPackage(PackageName(name), Version(version), BuildString(build))


def parse_exclude_newer(s):
    try:
        dt = datetime.datetime.fromisoformat(s.replace("Z", "+00:00"))
    except ValueError:
        die(f"--exclude-newer: not an ISO 8601 date/time: {s!r}")
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=datetime.timezone.utc)
    # py-rattler does dt.replace(tzinfo=utc) (not astimezone), so hand it UTC.
    return dt.astimezone(datetime.timezone.utc)


FORMATS = {
    "prefer-conda": PackageFormatSelection.PREFER_CONDA,
    "only-conda": PackageFormatSelection.ONLY_CONDA,
    "only-tar-bz2": PackageFormatSelection.ONLY_TAR_BZ2,
    "both": PackageFormatSelection.BOTH,
}


def hexs(b):
    return b.hex() if b is not None else None


def record_json(r):
    return {
        "name": r.name.normalized,
        "version": str(r.version),
        "build": str(r.build),
        "build_number": r.build_number,
        "subdir": str(r.subdir),
        "channel": r.channel,
        "url": r.url,
        "sha256": hexs(r.sha256),
        "md5": hexs(r.md5),
        "size": r.size,
        "file_name": r.file_name,
    }


async def run(args):
    platform = args.platform
    subdirs = [platform] if platform == "noarch" else [platform, "noarch"]
    virtual = [parse_virtual(v) for v in args.virtual]
    exclude_newer = parse_exclude_newer(args.exclude_newer) if args.exclude_newer else None

    with tempfile.TemporaryDirectory(prefix="conda-oracle-") as tmp:
        sparse = []
        for raw in args.channel:
            url, scheme = normalize_channel(raw)
            channel = Channel(url)
            found = False
            for sd in subdirs:
                path = fetch_repodata(url, scheme, sd, tmp)
                if path is None:
                    print(f"conda-oracle: note: no {url}/{sd}/repodata.json", file=sys.stderr)
                    continue
                found = True
                sparse.append(SparseRepoData(channel, sd, path))
            if not found:
                die(f"channel {url} has no repodata.json for {', '.join(subdirs)}")
        try:
            records = await rattler.solve_with_sparse_repodata(
                specs=args.specs,
                sparse_repodata=sparse,
                virtual_packages=virtual,
                channel_priority=ChannelPriority.Strict,
                exclude_newer=exclude_newer,
                strategy="highest",
                package_format_selection=FORMATS[args.package_format],
                timestamp_policy=args.timestamp_policy,
            )
        except SolverError as e:
            print(str(e), file=sys.stderr)
            return 1
        finally:
            for s in sparse:
                s.close()

    out = sorted((record_json(r) for r in records), key=lambda o: (o["name"], o["version"]))
    json.dump(out, sys.stdout, indent=2, sort_keys=True)
    sys.stdout.write("\n")
    return 0


def main():
    ap = argparse.ArgumentParser(
        description="Solve conda specs with py-rattler (strict channel priority) and print JSON.")
    ap.add_argument("--channel", action="append", required=True,
                    help="channel URL (file:///..., http://..., or local dir); order = priority")
    ap.add_argument("--platform", default="linux-64")
    ap.add_argument("--virtual", action="append", default=[],
                    help="virtual package NAME=VERSION[=BUILD], e.g. __glibc=2.17")
    ap.add_argument("--exclude-newer", default=None,
                    help="ISO 8601 cutoff, e.g. 2023-01-01T00:00:00Z")
    ap.add_argument("--timestamp-policy", default="require-timestamp",
                    choices=["require-timestamp", "allow-missing", "require-indexed-timestamp"],
                    help="with --exclude-newer: what to do with records lacking a timestamp "
                         "(py-rattler default: require-timestamp = drop them)")
    ap.add_argument("--package-format", default="prefer-conda", choices=sorted(FORMATS))
    ap.add_argument("specs", nargs="+", metavar="SPEC")
    args = ap.parse_args()
    code = asyncio.run(run(args))
    # py-rattler 0.28 intermittently segfaults (SIGSEGV, no Python frame) during
    # interpreter shutdown after a solve; skip the shutdown once output is out.
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)


if __name__ == "__main__":
    main()
