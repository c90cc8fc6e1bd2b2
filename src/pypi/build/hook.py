"""imglock's PEP 517 metadata hook.

Run by imglock inside a throwaway container of the image's own base image, with no network, to
learn the dependencies of one source distribution whose metadata no static file gives. Mounted
read-only at /imglock: the sdist and the locked wheels of its build dependencies
(/imglock/wheels). Writable at /imglock-out: where the METADATA goes. /tmp, where everything is
unpacked, is a tmpfs. Arguments: the build
backend (`module:object`), its `backend-path` as a JSON list, and the sdist's file name.

First the hook makes sure it has no network: it enters a network namespace of its own, empty,
so nothing it runs can reach any host; where the engine forbids that (docker and podman drop
the capability), it checks that the engine's isolation left it no interface but loopback, and
stops otherwise (buildah's chroot isolation shares the host's network even when told `--network
none`: imglock then starts buildah itself in an empty network namespace).

The build dependencies are made importable by unpacking their wheels (what an installer does for
a pure wheel), the sdist is unpacked with every member checked to stay inside its folder, and the
backend's `prepare_metadata_for_build_wheel` runs (or, when it has none, `build_wheel`, and the
METADATA is read from the wheel). What the backend prints goes to stderr.
"""
import ctypes
import importlib
import json
import os
import socket
import sys
import tarfile
import tempfile
import zipfile

IN, OUT = "/imglock", "/imglock-out"


CLONE_NEWNET = 0x40000000


def leave_network():
    """Enters an empty network namespace, or checks that there is no network to leave."""
    if ctypes.CDLL(None, use_errno=True).unshare(CLONE_NEWNET) == 0:
        return
    interfaces = sorted({name for _, name in socket.if_nameindex()} - {"lo"})
    if interfaces:
        sys.exit(f"imglock: the build container has a network (interfaces {', '.join(interfaces)}) "
                 "and cannot leave it; imglock runs no package code with a network")


def inside(root, name):
    path = os.path.realpath(os.path.join(root, name))
    return path == root or path.startswith(root + os.sep)


def unpack(archive, into):
    """Unpacks an sdist (.tar.gz or .zip); a member that would land outside `into` is an error."""
    into = os.path.realpath(into)
    if archive.endswith(".zip"):
        with zipfile.ZipFile(archive) as zipped:
            for name in zipped.namelist():
                if not inside(into, name):
                    sys.exit(f"imglock: the sdist member {name!r} would land outside its folder")
            zipped.extractall(into)
        return
    with tarfile.open(archive) as tar:
        for member in tar.getmembers():
            if not inside(into, member.name) or member.isdev() or (
                (member.issym() or member.islnk())
                and not inside(into, os.path.join(os.path.dirname(member.name), member.linkname))
            ):
                sys.exit(f"imglock: the sdist member {member.name!r} would land outside its folder")
        tar.extractall(into)


def backend_object(spec, paths, root):
    for path in reversed(paths):
        sys.path.insert(0, os.path.join(root, path))
    module, _, attributes = spec.partition(":")
    backend = importlib.import_module(module.strip())
    for attribute in filter(None, attributes.strip().split(".")):
        backend = getattr(backend, attribute)
    return backend


def metadata(backend, scratch):
    hook = getattr(backend, "prepare_metadata_for_build_wheel", None)
    if hook is not None:
        folder = hook(scratch, {})
        with open(os.path.join(scratch, folder, "METADATA"), encoding="utf-8") as text:
            return text.read()
    wheel = backend.build_wheel(scratch, {})
    with zipfile.ZipFile(os.path.join(scratch, wheel)) as zipped:
        name = next(n for n in zipped.namelist() if n.count("/") == 1 and n.endswith(".dist-info/METADATA"))
        return zipped.read(name).decode("utf-8")


def main():
    spec, paths, sdist = sys.argv[1], json.loads(sys.argv[2]), sys.argv[3]
    leave_network()
    os.dup2(2, 1)  # whatever the backend prints is a log, not the answer
    deps = tempfile.mkdtemp(prefix="imglock-build-deps-")
    wheels = os.path.join(IN, "wheels")
    for wheel in sorted(os.listdir(wheels)):
        with zipfile.ZipFile(os.path.join(wheels, wheel)) as zipped:
            zipped.extractall(deps)
    sys.path.insert(0, deps)
    source = tempfile.mkdtemp(prefix="imglock-sdist-")
    unpack(os.path.join(IN, sdist), source)
    tops = os.listdir(source)
    root = os.path.join(source, tops[0]) if len(tops) == 1 else source
    os.chdir(root)
    sys.path.insert(0, root)
    backend = backend_object(spec, paths, root)
    text = metadata(backend, tempfile.mkdtemp(prefix="imglock-metadata-"))
    with open(os.path.join(OUT, "METADATA"), "w", encoding="utf-8") as out:
        out.write(text)


if __name__ == "__main__":
    main()
