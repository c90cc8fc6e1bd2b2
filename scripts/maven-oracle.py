#!/usr/bin/env python3
"""Reference Maven 3 dependency resolver ("oracle") for imglock's tests: asks
REAL Maven (Debian's `maven` + `libmaven-dependency-plugin-java`) what it
resolves, against a local Maven-2-layout repository, with no network.

    apt-get install -y --no-install-recommends maven libmaven-dependency-plugin-java

    maven-oracle.py --repo DIR COORD [COORD ...] [--exclude G:A ...]
                    [--resolve] [--allow-missing-poms] [--synthesize-metadata]
                    [--keep] [--tmpdir DIR] [--timeout SECONDS]

For the POM-only corpus (no jars, no maven-metadata.xml):
    maven-oracle.py --synthesize-metadata --allow-missing-poms \
        --repo ../shared/corpora/maven/central org.apache.spark:spark-core_2.12:3.2.4

COORD is g:a:v, g:a:classifier:v, or g:a:type:classifier:v (empty classifier
allowed: g:a:pom::v). Each COORD becomes a compile-scope <dependency> of a
throwaway project (packaging pom, org.imglock.oracle:oracle-root:0); every
--exclude G:A (G or A may be `*`) is added as an <exclusion> to EVERY root
dependency.

How the network is avoided (documented in fixtures/maven/README.md):
  * a temp settings.xml (-s) and an EMPTY global settings (-gs), so neither
    /etc/maven/settings.xml nor ~/.m2/settings.xml counts;
  * a <mirror> with <mirrorOf>*,!imglock-debian-plugins</mirrorOf> pointing
    at file://DIR, so every repository Maven knows (central, and any
    <repositories> declared in the POMs it reads) is served from DIR;
  * one plugin repository, id imglock-debian-plugins,
    file:///usr/share/maven-repo (Debian's plugin repo), where
    maven-dependency-plugin 3.5.0 and its dependencies live;
  * `-o` (offline) plus `-Daether.offline.protocols=file`: Maven's resolver
    refuses every transport except file:// even if some repository slipped
    past the mirror;
  * a fresh temp local repository (-Dmaven.repo.local, in /dev/shm when
    writable), deleted at the end unless --keep.
Dependency POMs' profiles activate as Maven sees THIS machine: <jdk> against
the running JVM (Debian's OpenJDK 17), <os> against linux/amd64.

Goal: org.apache.maven.plugins:maven-dependency-plugin:3.5.0:tree, which is
@requiresDependencyCollection: Maven reads POMs (and maven-metadata.xml for
ranges) but downloads NO jars, so this also works on a POM-only corpus. With
--resolve, `dependency:resolve` runs after it too (downloads every jar of the
test-scope closure from DIR, and fails if one is missing) - a check of the
fixture's jars, not a different answer.

Prints to stdout a JSON list sorted by (group, artifact, type, classifier) of
{"group","artifact","version","type","classifier","scope","depth"} for scopes
compile and runtime only (test/provided/system and the root are left out).
depth is 1 for a root dependency; "optional": true is added for a root
dependency Maven marks optional (never, as the root declares none). Exits 1
with Maven's output on stderr if Maven fails, 2 on usage errors, 3 if Maven
warned that a POM is missing or invalid (Maven itself goes on as if that
artifact had no dependencies; --allow-missing-poms prints the set anyway,
with the warnings on stderr).
"""

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from xml.sax.saxutils import escape

PLUGIN = "org.apache.maven.plugins:maven-dependency-plugin:3.5.0"
DEBIAN_REPO = "/usr/share/maven-repo"
ROOT_G, ROOT_A, ROOT_V = "org.imglock.oracle", "oracle-root", "0"


def parse_coord(s):
    p = s.split(":")
    if len(p) == 3:
        g, a, v = p
        t, c = "jar", ""
    elif len(p) == 4:
        g, a, c, v = p
        t = "jar"
    elif len(p) == 5:
        g, a, t, c, v = p
    else:
        raise ValueError(f"bad coordinate {s!r}: want g:a:v, g:a:classifier:v or g:a:type:classifier:v")
    if not (g and a and v and t):
        raise ValueError(f"bad coordinate {s!r}: empty group, artifact, type or version")
    return g, a, t, c, v


def project_pom(coords, excludes):
    deps = []
    for g, a, t, c, v in coords:
        x = [f"      <groupId>{escape(g)}</groupId>",
             f"      <artifactId>{escape(a)}</artifactId>",
             f"      <version>{escape(v)}</version>"]
        if t != "jar":
            x.append(f"      <type>{escape(t)}</type>")
        if c:
            x.append(f"      <classifier>{escape(c)}</classifier>")
        x.append("      <scope>compile</scope>")
        if excludes:
            x.append("      <exclusions>")
            for eg, ea in excludes:
                x.append(f"        <exclusion><groupId>{escape(eg)}</groupId>"
                         f"<artifactId>{escape(ea)}</artifactId></exclusion>")
            x.append("      </exclusions>")
        deps.append("    <dependency>\n" + "\n".join(x) + "\n    </dependency>")
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<project xmlns="http://maven.apache.org/POM/4.0.0">
  <modelVersion>4.0.0</modelVersion>
  <groupId>{ROOT_G}</groupId>
  <artifactId>{ROOT_A}</artifactId>
  <version>{ROOT_V}</version>
  <packaging>pom</packaging>
  <dependencies>
{chr(10).join(deps)}
  </dependencies>
</project>
"""


def settings_xml(repo_url, local_repo):
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<settings xmlns="http://maven.apache.org/SETTINGS/1.0.0">
  <localRepository>{escape(local_repo)}</localRepository>
  <interactiveMode>false</interactiveMode>
  <offline>true</offline>
  <mirrors>
    <mirror>
      <id>imglock-oracle-repo</id>
      <mirrorOf>*,!imglock-debian-plugins</mirrorOf>
      <url>{escape(repo_url)}</url>
    </mirror>
  </mirrors>
  <profiles>
    <profile>
      <id>imglock-oracle</id>
      <pluginRepositories>
        <pluginRepository>
          <id>imglock-debian-plugins</id>
          <url>file://{DEBIAN_REPO}</url>
          <releases><enabled>true</enabled><checksumPolicy>ignore</checksumPolicy></releases>
          <snapshots><enabled>false</enabled></snapshots>
        </pluginRepository>
      </pluginRepositories>
    </profile>
  </profiles>
  <activeProfiles><activeProfile>imglock-oracle</activeProfile></activeProfiles>
</settings>
"""


LINE = re.compile(r"^((?:[|+\\ ]  |[+\\]- )*)(\S+)(.*)$")


def overlay_with_metadata(src, dst):
    """Mirror the repository src into dst as symlinks and write a
    maven-metadata.xml into every artifact folder that lacks one, listing the
    version folders that hold a POM. Returns how many were written."""
    n = 0
    for root, dirs, files in os.walk(src):
        rel = os.path.relpath(root, src)
        out = os.path.join(dst, rel) if rel != "." else dst
        os.makedirs(out, exist_ok=True)
        for f in files:
            os.symlink(os.path.join(root, f), os.path.join(out, f))
        if "maven-metadata.xml" in files or rel == ".":
            continue
        art = os.path.basename(root)
        vers = sorted(d for d in dirs
                      if os.path.isfile(os.path.join(root, d, f"{art}-{d}.pom")))
        if not vers:
            continue
        grp = os.path.dirname(rel).replace(os.sep, ".")
        body = "".join(f"      <version>{escape(v)}</version>\n" for v in vers)
        with open(os.path.join(out, "maven-metadata.xml"), "w") as fh:
            fh.write(f"""<?xml version="1.0" encoding="UTF-8"?>
<metadata>
  <groupId>{escape(grp)}</groupId>
  <artifactId>{escape(art)}</artifactId>
  <versioning>
    <versions>
{body}    </versions>
  </versioning>
</metadata>
""")
        n += 1
    return n


def parse_tree(text):
    """Parse dependency:tree outputType=text. Returns list of dicts."""
    out = []
    lines = [l for l in text.splitlines() if l.strip()]
    for i, line in enumerate(lines):
        m = LINE.match(line)
        if not m:
            raise ValueError(f"unparsable tree line {line!r}")
        prefix, node, rest = m.groups()
        depth = len(prefix) // 3
        p = node.split(":")
        if depth == 0:
            continue  # the root project
        if len(p) == 5:
            g, a, t, v, s = p
            c = ""
        elif len(p) == 6:
            g, a, t, c, v, s = p
        else:
            raise ValueError(f"unexpected node {node!r}")
        e = {"group": g, "artifact": a, "version": v, "type": t,
             "classifier": c, "scope": s, "depth": depth}
        if "(optional)" in rest:
            e["optional"] = True
        out.append(e)
    return out


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--repo", required=True, help="local Maven 2 layout repository directory")
    ap.add_argument("--exclude", action="append", default=[], metavar="G:A")
    ap.add_argument("--resolve", action="store_true",
                    help="also run dependency:resolve (downloads jars; fixture check)")
    ap.add_argument("--keep", action="store_true", help="keep the temp dir, print its path on stderr")
    ap.add_argument("--allow-missing-poms", action="store_true",
                    help="do not fail when Maven warns that a POM is missing/invalid")
    ap.add_argument("--synthesize-metadata", action="store_true",
                    help="serve DIR through a symlink overlay that adds a maven-metadata.xml"
                         " (listing the version folders present) to every artifact folder"
                         " lacking one, so version ranges resolve against a POM-only corpus")
    ap.add_argument("--tmpdir", help="where to make the temp dir (default /dev/shm if writable)")
    ap.add_argument("--timeout", type=float, default=1800)
    ap.add_argument("--mvn", default=shutil.which("mvn") or "/usr/bin/mvn")
    ap.add_argument("coords", nargs="+", metavar="COORD")
    a = ap.parse_args()
    try:
        coords = [parse_coord(c) for c in a.coords]
        excludes = []
        for x in a.exclude:
            p = x.split(":")
            if len(p) != 2 or not all(p):
                raise ValueError(f"bad --exclude {x!r}: want G:A")
            excludes.append(tuple(p))
    except ValueError as e:
        print(f"maven-oracle: {e}", file=sys.stderr)
        return 2
    repo = os.path.abspath(a.repo)
    if not os.path.isdir(repo):
        print(f"maven-oracle: --repo {repo} is not a directory", file=sys.stderr)
        return 2
    if not os.path.isdir(os.path.join(DEBIAN_REPO, "org/apache/maven/plugins/maven-dependency-plugin/3.5.0")):
        print("maven-oracle: maven-dependency-plugin 3.5.0 missing from /usr/share/maven-repo;"
              " apt-get install libmaven-dependency-plugin-java", file=sys.stderr)
        return 2

    # /dev/shm when there is one: on this machine's ext4 (mounted with
    # `discard`) deleting the thousands of files of a local repository takes
    # ~3 ms a file, a minute for a corpus run.
    tmpdir = a.tmpdir
    if tmpdir is None and os.path.isdir("/dev/shm") and os.access("/dev/shm", os.W_OK):
        tmpdir = "/dev/shm"
    tmp = tempfile.mkdtemp(prefix="maven-oracle-", dir=tmpdir)
    try:
        local = os.path.join(tmp, "m2")
        proj = os.path.join(tmp, "project")
        os.makedirs(local)
        os.makedirs(proj)
        with open(os.path.join(proj, "pom.xml"), "w") as f:
            f.write(project_pom(coords, excludes))
        served = repo
        if a.synthesize_metadata:
            served = os.path.join(tmp, "repo-overlay")
            n = overlay_with_metadata(repo, served)
            print(f"maven-oracle: synthesized {n} maven-metadata.xml", file=sys.stderr)
        with open(os.path.join(tmp, "settings.xml"), "w") as f:
            f.write(settings_xml("file://" + served, local))
        with open(os.path.join(tmp, "global-settings.xml"), "w") as f:
            f.write('<settings xmlns="http://maven.apache.org/SETTINGS/1.0.0"/>\n')
        tree = os.path.join(tmp, "tree.txt")
        base = [a.mvn, "-B", "-o", "-e", "-ntp",
                "-s", os.path.join(tmp, "settings.xml"),
                "-gs", os.path.join(tmp, "global-settings.xml"),
                f"-Dmaven.repo.local={local}",
                "-Daether.offline.protocols=file",
                "-f", os.path.join(proj, "pom.xml")]
        env = dict(os.environ)
        env.pop("MAVEN_OPTS", None)
        env.pop("MAVEN_ARGS", None)
        env["MAVEN_SKIP_RC"] = "1"
        # dependency:resolve reads the same outputFile property as the tree,
        # so it runs as a second mvn call, after the tree, in the same local repo.
        runs = [base + [f"-DoutputFile={tree}", "-DoutputType=text", f"{PLUGIN}:tree"]]
        if a.resolve:
            runs.append(base + [f"{PLUGIN}:resolve"])
        t0 = time.monotonic()
        log = ""
        for cmd in runs:
            r = subprocess.run(cmd, cwd=proj, env=env, stdout=subprocess.PIPE,
                               stderr=subprocess.STDOUT, text=True, timeout=a.timeout)
            log += r.stdout
            if r.returncode != 0:
                break
        dt = time.monotonic() - t0
        with open(os.path.join(tmp, "mvn.log"), "w") as f:
            f.write(log)
        if r.returncode != 0 or not os.path.exists(tree):
            sys.stderr.write(log)
            print(f"maven-oracle: mvn failed (exit {r.returncode}) after {dt:.1f}s: {' '.join(cmd)}",
                  file=sys.stderr)
            return 1
        # A missing POM is NOT an error for Maven's collection: it warns
        # "The POM for g:a:jar:v is missing, no dependency information
        # available" and goes on as if the artifact had no dependencies.
        bad = sorted(set(re.findall(r"The POM for (\S+) is (missing|invalid)", log)))
        for coord, why in bad:
            print(f"maven-oracle: POM {why}: {coord}", file=sys.stderr)
        if bad and not a.allow_missing_poms:
            print(f"maven-oracle: {len(bad)} POM(s) missing or invalid in {repo};"
                  " pass --allow-missing-poms to print the tree anyway", file=sys.stderr)
            return 3
        with open(tree) as f:
            nodes = parse_tree(f.read())
        res = [n for n in nodes if n["scope"] in ("compile", "runtime")]
        res.sort(key=lambda n: (n["group"], n["artifact"], n["type"], n["classifier"]))
        print(json.dumps(res, indent=1))
        print(f"maven-oracle: {len(res)} artifacts (compile+runtime) of {len(nodes)} nodes,"
              f" mvn {dt:.1f}s", file=sys.stderr)
        if a.keep:
            print(f"maven-oracle: kept {tmp}", file=sys.stderr)
        return 0
    finally:
        if not a.keep:
            shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
