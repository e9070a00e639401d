"""What the helper paths need of os and os.path, from the posix module alone.

`import os` costs about 1 ms of a 7 ms interpreter start (it builds os.environ and imports
_collections_abc's two dozen abstract classes), and Docker starts a helper for every registry it
touches. So the modules a helper's get runs through (credctl.paths, the stores' read paths, the
ACR token cache, the router's routes, the kubelet plugin's lookup) take these from here and never
import os; the admin CLI and the write paths may load os, and then environ() is os.environ.
Each function does what the os.path function it names does on POSIX (tests/test_posixfs.py
holds them to it).
"""

from __future__ import annotations

import posix
import sys

TYPE_CHECKING = False  # typing itself is too slow to import on the helper path
if TYPE_CHECKING:
    from collections.abc import ItemsView, Iterator, KeysView, Mapping, ValuesView

_copy: dict[str, str] | None = None


def environ() -> Mapping[str, str]:
    """os.environ once os is loaded (the admin CLI, the tests); before that, this process's
    environment decoded as os decodes it, copied once (nothing on a helper's path changes it)."""
    global _copy
    loaded = sys.modules.get("os")
    if loaded is not None:
        return loaded.environ
    if _copy is None:
        encoding, errors = sys.getfilesystemencoding(), sys.getfilesystemencodeerrors()
        _copy = {key.decode(encoding, errors): value.decode(encoding, errors) for key, value in posix.environ.items()}
    return _copy


class _ProcessEnviron:
    """environ(), looked up at each use: the default `environ` argument of the helper paths'
    functions, which sees what os.environ holds (a test's change too) once os is loaded."""

    __slots__ = ()

    def __getitem__(self, key: str) -> str:
        return environ()[key]

    def __contains__(self, key: object) -> bool:
        return key in environ()

    def __iter__(self) -> Iterator[str]:
        return iter(environ())

    def __len__(self) -> int:
        return len(environ())

    def get(self, key: str, default: str | None = None) -> str | None:
        return environ().get(key, default)

    def keys(self) -> KeysView[str]:
        return environ().keys()

    def items(self) -> ItemsView[str, str]:
        return environ().items()

    def values(self) -> ValuesView[str]:
        return environ().values()

    def copy(self) -> dict[str, str]:
        return dict(environ())


ENVIRON = _ProcessEnviron()


def as_dict(mapping: Mapping[str, str]) -> dict[str, str]:
    """A dict copy of an environment; of ENVIRON, its mapping copied at once (dict() would look
    each variable up through ENVIRON one by one)."""
    return dict(environ() if mapping is ENVIRON else mapping)


def is_process_environ(mapping: object) -> bool:
    """Whether mapping is this process's own environment: ENVIRON, os.environ or environ()'s copy."""
    loaded = sys.modules.get("os")
    return mapping is ENVIRON or mapping is _copy or (loaded is not None and mapping is loaded.environ)


def fs_encode(name: str) -> bytes:
    """os.fsencode of a str."""
    return name.encode(sys.getfilesystemencoding(), sys.getfilesystemencodeerrors())


def fs_decode(name: bytes) -> str:
    """os.fsdecode of bytes."""
    return name.decode(sys.getfilesystemencoding(), sys.getfilesystemencodeerrors())


def join(path: str, *parts: str) -> str:
    """os.path.join on POSIX: a part starting with / starts again from it."""
    for part in parts:
        if part.startswith("/"):
            path = part
        elif not path or path.endswith("/"):
            path += part
        else:
            path += "/" + part
    return path


def dirname(path: str) -> str:
    """os.path.dirname: everything before the last /, without trailing slashes unless all are."""
    head = path[: path.rfind("/") + 1]
    stripped = head.rstrip("/")
    return stripped if stripped else head


def basename(path: str) -> str:
    """os.path.basename: everything after the last /."""
    return path[path.rfind("/") + 1 :]


def normpath(path: str) -> str:
    """os.path.normpath: no empty or . parts, each .. taken with the part before it (at the
    root, dropped); two leading slashes are kept (POSIX leaves their meaning open), more are one."""
    if not path:
        return "."
    slashes = len(path) - len(path.lstrip("/"))
    root = "//" if slashes == 2 else "/" if slashes else ""
    parts: list[str] = []
    for part in path.split("/"):
        if part in ("", "."):
            continue
        if part != ".." or (not root and (not parts or parts[-1] == "..")):
            parts.append(part)
        elif parts:
            parts.pop()
    return root + "/".join(parts) or "."


def abspath(path: str) -> str:
    """os.path.abspath: normpath of path, relative ones taken from the working directory."""
    return normpath(path if path.startswith("/") else join(posix.getcwd(), path))


def realpath(path: str) -> str:
    """os.path.realpath (not strict): absolute, with every symbolic link on the way followed. A
    part that cannot be looked at is taken as it is; at a loop of links the rest is left as written."""
    start = "/" if path.startswith("/") else posix.getcwd()
    return abspath(_follow_links(start, path, {})[0])


def _follow_links(resolved: str, rest: str, links: dict[str, str | None]) -> tuple[str, bool]:
    """(resolved with the parts of rest appended, links followed; False when a loop stopped it).
    resolved is absolute and has no link on it; links: each link met, with where it leads (None
    while that is being worked out)."""
    parts = rest.split("/")
    for index, part in enumerate(parts):
        if part in ("", "."):
            continue
        if part == "..":
            resolved = dirname(resolved)
            continue
        candidate = join(resolved, part)
        try:
            is_link = posix.lstat(candidate).st_mode & 0o170000 == 0o120000
        except OSError:
            is_link = False
        if not is_link:
            resolved = candidate
            continue
        left = "/".join(parts[index + 1 :])
        if candidate in links:
            known = links[candidate]
            if known is None:  # a loop
                return join(candidate, left), False
            resolved = known
            continue
        links[candidate] = None
        target = posix.readlink(candidate)
        resolved, complete = _follow_links("/" if target.startswith("/") else resolved, target, links)
        if not complete:
            return join(resolved, left), False
        links[candidate] = resolved
    return resolved, True


def _file_type(path: str, follow: bool = True) -> int | None:
    """The type bits of path's mode (through symbolic links when follow), None when it cannot be
    looked at: what os.path's exists, isdir, islink and isfile ask."""
    try:
        status = posix.stat(path) if follow else posix.lstat(path)
    except (OSError, ValueError):
        return None
    return status.st_mode & 0o170000


def exists(path: str) -> bool:
    """os.path.exists: there is something at path, through symbolic links."""
    return _file_type(path) is not None


def is_dir(path: str) -> bool:
    """os.path.isdir: a folder, through symbolic links."""
    return _file_type(path) == 0o040000


def is_link(path: str) -> bool:
    """os.path.islink."""
    return _file_type(path, follow=False) == 0o120000


def is_file(path: str) -> bool:
    """os.path.isfile: a regular file, through symbolic links."""
    return _file_type(path) == 0o100000


def home(environ: Mapping[str, str]) -> str:
    """The home directory environ names: its HOME, else the user's entry in the password database
    (what os.path.expanduser does when HOME is unset). Never this process's HOME in place of
    environ's: a caller that passes an environment means that one."""
    if environ.get("HOME"):
        return environ["HOME"]
    import pwd  # only without HOME

    try:
        return pwd.getpwuid(posix.getuid()).pw_dir
    except KeyError:
        return "~"  # a uid without an entry: left as os.path.expanduser leaves it


def expanduser(path: str, environ: Mapping[str, str]) -> str:
    """os.path.expanduser, with ~ and ~/ read as home(environ) and ~user from the password database."""
    if not path.startswith("~"):
        return path
    end = path.find("/", 1)
    end = len(path) if end < 0 else end
    if end == 1:
        found = home(environ)
        if found == "~":
            return path
    else:
        import pwd

        try:
            found = pwd.getpwnam(path[1:end]).pw_dir
        except KeyError:
            return path
    return found.rstrip("/") + path[end:] or "/"
