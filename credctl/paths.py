"""Where credctl keeps its own files, and how it writes them.

The posix module and credctl.posixfs, never os: every helper's get reads a file through here
(credctl.posixfs says why).
"""

from __future__ import annotations

import errno
import posix

from credctl import posixfs
from credctl.posixfs import abspath, basename, dirname, is_dir, is_link, join, realpath


def home(environ=posixfs.ENVIRON) -> str:
    """credctl.posixfs.home (HOME, else the password database's entry), of this process's environment by default."""
    return posixfs.home(environ)


def expand_home(path: str, environ=posixfs.ENVIRON) -> str:
    """path with a leading ~ (or ~/...) read as home(environ); ~user is the password database's."""
    if path == "~" or path.startswith("~/"):
        return home(environ) + path[1:]
    return posixfs.expanduser(path, environ)


def cache_dir(environ=posixfs.ENVIRON) -> str:
    """$XDG_CACHE_HOME/credctl, else ~/.cache/credctl (~: home(environ))."""
    base = environ.get("XDG_CACHE_HOME") or join(home(environ), ".cache")
    return join(base, "credctl")


def make_private_dirs(directory: str) -> None:
    """Create directory and every missing parent 0700 (os.makedirs gives the mode to the last only)."""
    missing = []
    while directory and not is_dir(directory):
        missing.append(directory)
        directory = dirname(directory)
    for path in reversed(missing):
        try:
            posix.mkdir(path, 0o700)
        except FileExistsError:
            pass  # made meanwhile by a concurrent run


# What credctl trusts on disk. Another local user must neither read what credctl keeps nor
# change what it reads: credctl's own folders (cache, settings) belong to the effective user and
# no one else can write them, nor any folder above them (a sticky folder such as /tmp excepted:
# there no one can move another's entry); its own files are regular files of that user that no
# one else can write. Lock and temporary files are never opened through a symbolic link, and no
# file is opened in a way that waits (a FIFO is refused, not read).

FOLDER_ADVICE = "credctl keeps its files only in folders no other user controls: remove it or choose another folder"
FILE_ADVICE = "credctl does not trust a file another user controls: remove it"
_KINDS = {0o100000: "a file", 0o010000: "a FIFO", 0o020000: "a device", 0o040000: "a folder", 0o060000: "a device"}
_KINDS.update({0o120000: "a symbolic link", 0o140000: "a socket"})


def _kind(mode: int) -> str:
    return _KINDS.get(mode & 0o170000, "not a regular file")


def _risk(status: posix.stat_result, owners: tuple[int, ...], sticky_ok: bool) -> str:
    """Why another user could change a file or folder with this status; "" when no one can."""
    if status.st_uid not in owners:
        return f"owned by uid {status.st_uid}, not by you (uid {posix.geteuid()})"
    if status.st_mode & 0o022 and not (sticky_ok and status.st_mode & 0o1000):
        return f"writable by other users (mode {status.st_mode & 0o7777:04o})"
    return ""


def folder_risk(directory: str, owners: tuple[int, ...]) -> tuple[str, str]:
    """(the folder, why) another user could change what directory holds; ("", "") when no one can.

    directory must be a folder of one of owners that no one else can write. Every folder above
    it, on the path as given and where its symbolic links lead, must belong to the effective user
    or root and be writable by no one else unless sticky (in /tmp no one can move another's
    entry); a symbolic link on the way must be the user's or root's (its owner can re-point it).
    A directory not made yet is judged by the folders it will be made in.
    """
    trusted = (posix.geteuid(), 0)
    absolute = abspath(directory)
    try:
        status = posix.stat(absolute)
    except (FileNotFoundError, NotADirectoryError):
        parent = dirname(absolute)
        return ("", "") if parent == absolute else _risk_of_above(parent, trusted)
    if status.st_mode & 0o170000 != 0o040000:
        return absolute, f"{_kind(status.st_mode)}, not a folder"
    reason = _risk(status, owners, False)
    if reason:
        return absolute, reason
    found, linked = _risk_on_path(absolute, trusted, False)
    if found or not linked:
        return found or ("", "")
    return _risk_of_above(dirname(realpath(absolute)), trusted)


def _risk_of_above(directory: str, trusted: tuple[int, ...]) -> tuple[str, str]:
    """folder_risk for a folder above credctl's own: the user's or root's, or sticky."""
    try:
        status = posix.stat(directory)
    except (FileNotFoundError, NotADirectoryError):
        parent = dirname(directory)
        return ("", "") if parent == directory else _risk_of_above(parent, trusted)
    if status.st_mode & 0o170000 != 0o040000:
        return "", ""  # nothing can be made in it: the write that tries fails with the system's reason
    found, linked = _risk_on_path(directory, trusted, True)
    if found or not linked:
        return found or ("", "")
    return _risk_on_path(realpath(directory), trusted, True)[0] or ("", "")


def _risk_on_path(start: str, trusted: tuple[int, ...], check_start: bool) -> tuple[tuple[str, str] | None, bool]:
    """(the first of start and the folders above it that another user controls, or None; whether a
    symbolic link is on the way, so that where it leads must be walked too). A link is judged by
    its owner, who can re-point it; its own mode means nothing."""
    path, linked = start, False
    while True:
        status = posix.lstat(path)
        if status.st_mode & 0o170000 == 0o120000:
            linked = True
            reason = "" if status.st_uid in trusted else f"a symbolic link owned by uid {status.st_uid}"
        else:
            reason = _risk(status, trusted, True) if check_start or path != start else ""
        if reason:
            return (path, reason), linked
        if path == dirname(path):
            return None, linked
        path = dirname(path)


def own_folder(directory: str) -> None:
    """Create credctl's own folder (0700, with any missing parents) or check the one there: the
    effective user's, 0700, in folders no other user controls (folder_risk). UnsafePath if not,
    and then nothing is made."""
    _check_own_folder(directory)
    make_private_dirs(directory)
    _check_own_folder(directory)
    mode = posix.stat(directory).st_mode
    if mode & 0o077:
        posix.chmod(directory, 0o700)  # the user's own folder: tightened, nothing in it to distrust


def _check_own_folder(directory: str) -> None:
    from credctl.errors import UnsafePath

    where, reason = folder_risk(directory, (posix.geteuid(),))
    if reason:
        raise UnsafePath(where, reason, FOLDER_ADVICE)


def _open_regular(path: str, flags: int = 0) -> int:
    """A descriptor on path opened without waiting (O_NONBLOCK: a FIFO is not waited on), or
    UnsafePath when it is not a regular file (or a folder, when flags allow one)."""
    from credctl.errors import UnsafePath

    try:
        fd = posix.open(path, posix.O_RDONLY | posix.O_NONBLOCK | posix.O_CLOEXEC | flags, 0o600)
    except OSError as err:
        if err.errno == errno.ELOOP and flags & posix.O_NOFOLLOW:  # the last component is a link
            raise UnsafePath(path, "a symbolic link", "credctl never opens a lock through one: remove it") from None
        raise
    mode = posix.fstat(fd).st_mode & 0o170000
    if mode != 0o100000 and not (mode == 0o040000 and not flags & posix.O_CREAT):
        posix.close(fd)
        raise UnsafePath(path, f"{_kind(mode)}, not a regular file", "remove it")
    return fd


def read_file(path: str, private: bool = False) -> bytes | None:
    """path's content, None when there is no such file; never waits (UnsafePath for a FIFO or any
    file that is not regular). private: one of credctl's own files, trusted only when it and its
    folder are the effective user's and no other user can change them (UnsafePath if not)."""
    from credctl.errors import UnsafePath

    if private:
        _check_own_folder(dirname(path))
    try:
        fd = _open_regular(path)
    except FileNotFoundError:
        return None
    try:
        status = posix.fstat(fd)
        if status.st_mode & 0o170000 != 0o100000:
            raise UnsafePath(path, f"{_kind(status.st_mode)}, not a regular file", "remove it")
        if private:
            reason = _risk(status, (posix.geteuid(),), False)
            if not reason and is_link(path):
                reason = _target_folder_risk(path)
            if reason:
                raise UnsafePath(path, reason, FILE_ADVICE)
        chunks = []
        while chunk := posix.read(fd, 65536):
            chunks.append(chunk)
        return b"".join(chunks)
    finally:
        posix.close(fd)


def _target_folder_risk(path: str) -> str:
    """For a file reached through a symbolic link: why its target's folder is not safe, or ""."""
    target = realpath(path)
    if dirname(target) == realpath(dirname(path)):
        return ""
    where, reason = folder_risk(dirname(target), (posix.geteuid(), 0))
    return f"it leads to {target}, and {where} is {reason}" if reason else ""


def write_atomically(path: str, data: bytes, private: bool = False, chosen: bool = False) -> None:
    """Replace path with data so that a reader (or a crash) sees the old file or the new, whole.

    A temporary file beside it (created exclusively, never through a link), fsync, rename, fsync
    of the folder. A symbolic link stays one: its target is the file rewritten. The old file's
    mode and owner are kept (new files 0600, new folders 0700) -- unless private: one of
    credctl's own files, always 0600 and the effective user's, in a folder own_folder checks.
    chosen (with private): a secret file at a path the user named (`credctl export -o FILE`):
    0600 and the effective user's all the same, but its folder is the user's choice, left as it
    is (never made, never tightened to 0700); a missing folder is the system's error.
    The temporary is .<name>.credctl-<pid>.<random>.tmp: unique even between threads; what a
    killed writer left (its pid is gone) is removed by the next write of the same file.
    """
    from credctl.errors import UnsafePath

    if private and not chosen:
        own_folder(dirname(path))
    target = realpath(path)
    directory = dirname(target)
    if private:
        reason = _target_folder_risk(path)
        if reason:
            raise UnsafePath(path, reason, FILE_ADVICE)
    else:
        make_private_dirs(directory)
    try:
        status = posix.stat(target)
        mode, owner = status.st_mode & 0o7777, (status.st_uid, status.st_gid)
    except FileNotFoundError:
        mode, owner = 0o600, None
    if private:
        mode, owner = 0o600, None  # never the mode or owner of a file someone else may have put there
    prefix = f".{basename(target)}.credctl-"
    temporary = join(directory, f"{prefix}{posix.getpid()}.{posix.urandom(4).hex()}.tmp")
    flags = posix.O_WRONLY | posix.O_CREAT | posix.O_EXCL | posix.O_NOFOLLOW | posix.O_CLOEXEC
    fd = posix.open(temporary, flags, 0o600)
    try:
        posix.fchmod(fd, mode)
        if owner is not None and posix.geteuid() == 0 and owner != (0, 0):
            posix.fchown(fd, *owner)  # root editing a user's file must not take it over
        with open(fd, "wb") as file:
            file.write(data)
            file.flush()
            posix.fsync(file.fileno())
        posix.replace(temporary, target)
    except BaseException:
        try:
            posix.unlink(temporary)
        except OSError:
            pass
        raise
    dir_fd = posix.open(directory, posix.O_RDONLY | posix.O_DIRECTORY | posix.O_CLOEXEC)
    try:
        posix.fsync(dir_fd)  # so the rename itself survives a crash
    finally:
        posix.close(dir_fd)
    _remove_leftovers(directory, prefix)


def _remove_leftovers(directory: str, prefix: str) -> None:
    """Unlink the temporaries of path that writers killed before their rename left behind."""
    try:
        names = [name for name in posix.listdir(directory) if name.startswith(prefix) and name.endswith(".tmp")]
    except OSError:
        return
    for name in names:
        pid = name[len(prefix) :].split(".", 1)[0]
        if not pid.isdigit() or int(pid) == posix.getpid():
            continue  # not ours to judge; or this process's (another thread's write in progress)
        try:
            posix.kill(int(pid), 0)
            continue  # a live writer (or a reused pid): leave it
        except ProcessLookupError:
            pass
        except OSError:
            continue  # someone else's live process
        try:
            posix.unlink(join(directory, name))
        except OSError:
            pass


class locked:  # lower case: it reads as a function, `with locked(path):`
    """Hold a flock on path (a file, created 0600 if missing, or a directory) for a with-block.

    Exclusive for writers, shared for readers; released when the descriptor closes, even if
    the process is killed. FileNotFoundError when path is missing and create is False. A lock
    file is never opened through a symbolic link nor waited on (UnsafePath for a link, a FIFO or
    any other file that is not regular). private: a lock in one of credctl's own folders, which
    own_folder makes or checks, and the lock file must be the effective user's alone. With a
    timeout (seconds), Stuck when another process has held it all that time.
    """

    def __init__(
        self,
        path: str,
        exclusive: bool = True,
        create: bool = True,
        private: bool = False,
        timeout: float | None = None,
    ) -> None:
        self.path, self.exclusive, self.create, self.private, self.fd = path, exclusive, create, private, -1
        self.timeout = timeout

    def __enter__(self) -> locked:
        import fcntl  # a C extension that paths which never lock do without

        if not self.create:
            self.fd = _open_regular(self.path)  # an existing file or folder, such as a store's root
        else:
            if self.private:
                own_folder(dirname(self.path))
            else:
                make_private_dirs(dirname(self.path))
            try:
                self.fd = _open_regular(self.path, posix.O_CREAT | posix.O_NOFOLLOW)
            except IsADirectoryError:
                self.fd = _open_regular(self.path)
            if self.private:
                self._check_private()
        mode = fcntl.LOCK_EX if self.exclusive else fcntl.LOCK_SH
        try:
            if self.timeout is None:
                fcntl.flock(self.fd, mode)
            else:
                _flock_within(self.fd, mode, self.timeout, self.path)
        except BaseException:
            posix.close(self.fd)
            raise
        return self

    def _check_private(self) -> None:
        from credctl.errors import UnsafePath

        reason = _risk(posix.fstat(self.fd), (posix.geteuid(),), False)
        if reason:
            posix.close(self.fd)
            raise UnsafePath(self.path, reason, FILE_ADVICE)

    def __exit__(self, *exc: object) -> None:
        posix.close(self.fd)


def _flock_within(fd: int, mode: int, timeout: float, path: str) -> None:
    """flock, asking again (1 ms apart at first, 50 ms at most): flock itself has no time limit.

    Stuck once the same processes have held the lock for timeout seconds. The wait starts
    again whenever the holders change (a queue of parallel stores is progress, not a stuck
    peer); /proc/locks names them on Linux, elsewhere the whole wait is bounded. A holder that
    died has let go already (its descriptor closed). /proc/locks is read only while the lock is
    taken, and at most every HOLDERS_LOOK seconds: reading it costs about 10 ms on some kernels.
    """
    import fcntl
    import time

    try:
        fcntl.flock(fd, mode | fcntl.LOCK_NB)
        return  # the usual case: nobody holds it
    except BlockingIOError:
        pass
    status = posix.fstat(fd)
    holders = _holders(status)
    now = time.monotonic()
    deadline, next_look, pause = now + timeout, now + HOLDERS_LOOK, 0.001
    while True:
        left = deadline - time.monotonic()
        if left <= 0:
            from credctl.errors import Stuck

            raise Stuck(
                f"another process holds the lock on {path} and did not let go within {timeout:g} s (is it stuck?)"
            )
        time.sleep(min(pause, left))
        pause = min(pause * 2, 0.05)
        try:
            fcntl.flock(fd, mode | fcntl.LOCK_NB)
            return
        except BlockingIOError:
            pass
        if time.monotonic() >= next_look:
            next_look = time.monotonic() + HOLDERS_LOOK
            now_holding = _holders(status)
            if now_holding is not None and now_holding != holders:
                holders, deadline = now_holding, time.monotonic() + timeout


HOLDERS_LOOK = 0.25  # seconds between two looks at who holds a lock credctl waits for


def _holders(status: posix.stat_result) -> frozenset[str] | None:
    """The pids holding a flock on status's file (waiters are not holders), or None where
    /proc/locks cannot be read."""
    inode = f"{posix.major(status.st_dev):02x}:{posix.minor(status.st_dev):02x}:{status.st_ino}"
    try:
        with open("/proc/locks", encoding="ascii", errors="replace") as locks:
            return frozenset(fields[4] for fields in map(str.split, locks) if len(fields) > 5 and fields[5] == inode)
    except OSError:
        return None
