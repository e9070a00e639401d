"""credctl's own modules loaded straight from their compiled files, for credctl's programs.

Python's own import of one module costs a helper about 40 µs (a finder looks the name up among
a folder's files, stats it again, works out and stats the cache path, then reads it), and a
helper's get loads close to twenty credctl modules; Docker starts a helper for every registry it
touches. install() puts a finder first on sys.meta_path that knows where credctl keeps each
module: a module or package of credctl whose __pycache__ file is current -- the
interpreter's own check: the pyc's magic number, and the source's mtime and size recorded in
it -- is read once and run; anything else (a missing or stale pyc, an optimized
run, another interpreter) is left to Python's finders, which compile and cache it as usual.
ModuleSpec and MAGIC_NUMBER come from the import system's own modules, loaded at every start:
importlib.machinery and importlib.util are the same objects behind an import of their own.
"""

import _frozen_importlib
import _frozen_importlib_external
import marshal
import posix
import sys

PACKAGE = "credctl."


class _Loader:
    """Finds and runs credctl's modules and packages from their current pyc files."""

    @classmethod
    def find_spec(cls, name: str, path=None, target=None):  # -> ModuleSpec | None
        if path is None or not name.startswith(PACKAGE) or len(path) != 1:
            return None
        folder, short = path[0], name.rpartition(".")[2]
        tag = sys.implementation.cache_tag
        # A package first, as Python's own finder looks: short/__init__.py, then short.py.
        for source, cached, locations in (
            (
                f"{folder}/{short}/__init__.py",
                f"{folder}/{short}/__pycache__/__init__.{tag}.pyc",
                [f"{folder}/{short}"],
            ),
            (f"{folder}/{short}.py", f"{folder}/__pycache__/{short}.{tag}.pyc", None),
        ):
            try:
                status = posix.stat(source)
            except OSError:
                continue
            code = _current_code(status, cached)
            if code is None:
                return None  # Python compiles it (and caches the pyc where it can)
            spec = _frozen_importlib.ModuleSpec(name, cls, origin=source, loader_state=code, is_package=bool(locations))
            spec.has_location, spec.cached = True, cached
            if locations:
                spec.submodule_search_locations = locations
            return spec
        return None

    @staticmethod
    def create_module(spec) -> None:  # the default module object
        return None

    @staticmethod
    def exec_module(module) -> None:
        code = module.__spec__.loader_state
        module.__spec__.loader_state = None
        exec(code, module.__dict__)


def _current_code(source: posix.stat_result, cached: str):  # -> a code object, or None
    """The code in cached when it is a timestamp pyc of the source with this status, else None."""
    try:
        data = _read(cached)
    except OSError:
        return None
    header = data[:16]
    if (
        len(header) < 16
        or header[:4] != _frozen_importlib_external.MAGIC_NUMBER
        or header[4:8] != b"\0\0\0\0"  # flags: 0 is a timestamp pyc (not hash-based)
        or int.from_bytes(header[8:12], "little") != int(source.st_mtime) & 0xFFFFFFFF
        or int.from_bytes(header[12:16], "little") != source.st_size & 0xFFFFFFFF
    ):
        return None
    try:
        return marshal.loads(memoryview(data)[16:])
    except (EOFError, ValueError, TypeError):
        return None


def _read(path: str) -> bytes:
    """path's bytes in four system calls (open, fstat, read, close): a buffered file object
    would add an ioctl, two lseeks, another fstat and a read at the end to each module."""
    fd = posix.open(path, posix.O_RDONLY | posix.O_CLOEXEC)
    try:
        size = posix.fstat(fd).st_size
        data = posix.read(fd, size)
        while len(data) < size:  # a short read: go on until the end
            more = posix.read(fd, size - len(data))
            if not more:
                break
            data += more
        return data
    finally:
        posix.close(fd)


def install() -> None:
    """Put the finder first, once; not where pycs are named otherwise (-O, a pycache prefix)."""
    if sys.flags.optimize or sys.pycache_prefix or sys.implementation.cache_tag is None:
        return
    if _Loader not in sys.meta_path:
        sys.meta_path.insert(0, _Loader)
