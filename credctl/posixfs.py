"""What a helper needs of os and os.path before its store opens, from the posix module alone.

`import os` costs about 1.6 ms of a 10 ms interpreter start (it builds os.environ and imports
_collections_abc's two dozen abstract classes), and Docker starts a helper for every registry it
touches. credctl.spawn and the pass store's read path (credctl.stores.passread) run before
anything imports os, so that `get` has gpg decrypting while the rest of the helper loads; they
take these from here. Every other module uses os itself.
"""

from __future__ import annotations

import posix
import sys

TYPE_CHECKING = False  # typing itself is too slow to import on the helper path
if TYPE_CHECKING:
    from collections.abc import Mapping

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


def is_file(path: str) -> bool:
    """os.path.isfile: a regular file, through symbolic links."""
    try:
        return posix.stat(path).st_mode & 0o170000 == 0o100000
    except (OSError, ValueError):
        return False


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
