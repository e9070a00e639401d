"""How the pass store finds an entry and starts gpg on it, as `pass show` would decrypt it.

PassStore.get reads every entry through these functions. They import nothing that imports os
(credctl.posixfs, credctl.spawn and C modules only), so that docker-credential-pass `get` can
start gpg before the rest of the helper loads (start_early): the decryption, most of a `get`'s
time, then runs while the protocol and the store class are imported, and PassStore.get takes
the running gpg up (started) instead of starting one.
"""

from __future__ import annotations

import binascii
import posix

from credctl.helperinput import read_early
from credctl.posixfs import environ, home, is_file, join
from credctl.spawn import Running, on_path, start

TYPE_CHECKING = False  # typing itself is too slow to import on the helper path
if TYPE_CHECKING:
    from collections.abc import Mapping

FOLDER = "docker-credential-helpers"
MAX_NAME = 255  # bytes in one file name on Linux and macOS
_TO_URLSAFE = bytes.maketrans(b"+/", b"-_")


def store_dir(environ: Mapping[str, str]) -> str:
    """pass's own rule: $PASSWORD_STORE_DIR, else ~/.password-store."""
    return environ.get("PASSWORD_STORE_DIR") or join(home(environ), ".password-store")


def folder_name(server_url: str) -> str:
    """The Go helper's folder name: base64.URLEncoding (URL-safe alphabet, padded)."""
    raw = server_url.encode("utf-8", "surrogateescape")
    return binascii.b2a_base64(raw, newline=False).translate(_TO_URLSAFE).decode("ascii")


def server_folder(root: str, server_url: str) -> str | None:
    """The folder of server_url's entries in the store at root; None where nothing can be stored:
    "" would name FOLDER itself (every server's folder), and no file system holds a longer name."""
    name = folder_name(server_url)
    if not name or len(name) > MAX_NAME:
        return None
    return join(root, FOLDER, name)


def gpg_files(names: list[str]) -> list[str]:
    """The <username>.gpg entries of a server folder; dot files (never a username credctl stores) are not."""
    return [name for name in names if name.endswith(".gpg") and len(name) > 4 and name[0] != "."]


def first_entry(folder: str) -> str | None:
    """The file get reads: the byte-wise first <username>.gpg that is a regular file (Go takes the
    first entry of os.ReadDir; a sub-folder, Go's "a/b" usernames, is skipped); None for none."""
    try:
        names = sorted(gpg_files(posix.listdir(folder)))
    except (FileNotFoundError, NotADirectoryError):
        return None
    return next((name for name in names if is_file(join(folder, name))), None)


def gpg_program(environ: Mapping[str, str]) -> str:
    """pass prefers gpg2 when it is on PATH."""
    return "gpg2" if on_path("gpg2", environ) else "gpg"


def pass_gpg_options(environ: Mapping[str, str]) -> list[str]:
    """The options pass 1.7 gives gpg (GPG_OPTS): PASSWORD_STORE_GPG_OPTS, then its own."""
    options = environ.get("PASSWORD_STORE_GPG_OPTS", "").split()
    options += ["--quiet", "--yes", "--compress-algo=none", "--no-encrypt-to"]
    if gpg_program(environ) == "gpg2" or environ.get("GPG_AGENT_INFO"):
        options += ["--batch", "--use-agent"]
    return options


class Decryption:
    """gpg decrypting the entry `name` (<username>.gpg) of a server folder."""

    __slots__ = ("gpg", "name")

    def __init__(self, name: str, gpg: Running) -> None:
        self.name, self.gpg = name, gpg


def start_decrypting(folder: str, environ: Mapping[str, str]) -> Decryption | None:
    """gpg started on the first entry of folder (`pass show`'s gpg command, with status lines to
    explain a failure); None when the folder holds none. gpg reads the file opened here, so a
    caller holding the store's lock may let go of it at once. FileNotFoundError when gpg is
    not installed; any other OSError from opening the entry as it is."""
    name = first_entry(folder)
    if name is None:
        return None
    try:
        entry = posix.open(join(folder, name), posix.O_RDONLY | posix.O_CLOEXEC)
    except FileNotFoundError:
        return None  # removed by a writer that does not lock (Go's helper): nothing stored
    try:
        argv = [gpg_program(environ), "-d", *pass_gpg_options(environ), "--status-fd", "2"]
        return Decryption(name, start(argv, entry, environ))
    finally:
        posix.close(entry)


_early: dict[str, Decryption] = {}


def start_early() -> bytes | None:
    """docker-credential-pass get's head start: stdin read, and gpg started on the entry its
    server URL names (begin). Returns what was read, for the protocol to answer from (None when
    stdin was not read: helperinput.read_early)."""
    data, server_url = read_early()
    if server_url:
        begin(server_url, environ())
    return data


def begin(server_url: str, environ: Mapping[str, str]) -> None:
    """gpg started on server_url's entry, where nothing stands in the way (no writer holds the
    store's lock, the entry is there), for PassStore.get to take up (started). Anything unusual
    is left to PassStore.get, which reports it as it always does."""
    try:
        _start_early(server_url, environ)
    except (OSError, ValueError):
        pass


def _start_early(server_url: str, environ: Mapping[str, str]) -> None:
    root = store_dir(environ)
    folder = server_folder(root, server_url) if server_url else None
    if folder is None:
        return
    import fcntl  # a C module

    lock = posix.open(root, posix.O_RDONLY | posix.O_DIRECTORY | posix.O_NONBLOCK | posix.O_CLOEXEC)
    try:
        fcntl.flock(lock, fcntl.LOCK_SH | fcntl.LOCK_NB)  # PassStore.get's shared lock, never waited for here
        decryption = start_decrypting(folder, environ)
    finally:
        posix.close(lock)
    if decryption is not None:
        _early[folder] = decryption


def started(folder: str) -> Decryption | None:
    """The decryption start_early began for folder, taken up (None when it began none)."""
    return _early.pop(folder, None)
