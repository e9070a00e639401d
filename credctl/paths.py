"""Where credctl keeps its own files, and how it writes them (standard library only)."""

from __future__ import annotations

import os


def home(environ=os.environ) -> str:
    """The home directory environ names: its HOME, else the user's entry in the password database
    (what os.path.expanduser does when HOME is unset). Never this process's HOME in place of
    environ's: a caller that passes an environment means that one."""
    if environ.get("HOME"):
        return environ["HOME"]
    import pwd  # only without HOME

    try:
        return pwd.getpwuid(os.getuid()).pw_dir
    except KeyError:
        return "~"  # a uid without an entry: left as os.path.expanduser leaves it


def expand_home(path: str, environ=os.environ) -> str:
    """path with a leading ~ (or ~/...) read as home(environ); ~user is the password database's."""
    if path == "~" or path.startswith("~/"):
        return home(environ) + path[1:]
    return os.path.expanduser(path)


def cache_dir(environ=os.environ) -> str:
    """$XDG_CACHE_HOME/credctl, else ~/.cache/credctl (~: home(environ))."""
    base = environ.get("XDG_CACHE_HOME") or os.path.join(home(environ), ".cache")
    return os.path.join(base, "credctl")


def make_private_dirs(directory: str) -> None:
    """Create directory and every missing parent 0700 (os.makedirs gives the mode to the last only)."""
    missing = []
    while directory and not os.path.isdir(directory):
        missing.append(directory)
        directory = os.path.dirname(directory)
    for path in reversed(missing):
        try:
            os.mkdir(path, 0o700)
        except FileExistsError:
            pass  # made meanwhile by a concurrent run


def write_atomically(path: str, data: bytes) -> None:
    """Replace path with data so that a reader (or a crash) sees the old file or the new, whole.

    A temporary file beside it, the old file's mode and owner (new files 0600, new folders
    0700), fsync, rename, fsync of the folder. path must not be a symlink (pass its target).
    The temporary is .<name>.credctl-<pid>.<random>.tmp: unique even between threads; what a
    killed writer left (its pid is gone) is removed by the next write of the same file.
    """
    directory = os.path.dirname(path)
    make_private_dirs(directory)
    try:
        status = os.stat(path)
        mode, owner = status.st_mode & 0o7777, (status.st_uid, status.st_gid)
    except FileNotFoundError:
        mode, owner = 0o600, None
    prefix = f".{os.path.basename(path)}.credctl-"
    temporary = os.path.join(directory, f"{prefix}{os.getpid()}.{os.urandom(4).hex()}.tmp")
    fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, 0o600)
    try:
        os.fchmod(fd, mode)
        if owner is not None and os.geteuid() == 0 and owner != (0, 0):
            os.fchown(fd, *owner)  # root editing a user's file must not take it over
        with os.fdopen(fd, "wb") as file:
            file.write(data)
            file.flush()
            os.fsync(file.fileno())
        os.replace(temporary, path)
    except BaseException:
        try:
            os.unlink(temporary)
        except OSError:
            pass
        raise
    dir_fd = os.open(directory, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
    try:
        os.fsync(dir_fd)  # so the rename itself survives a crash
    finally:
        os.close(dir_fd)
    _remove_leftovers(directory, prefix)


def _remove_leftovers(directory: str, prefix: str) -> None:
    """Unlink the temporaries of path that writers killed before their rename left behind."""
    try:
        names = [name for name in os.listdir(directory) if name.startswith(prefix) and name.endswith(".tmp")]
    except OSError:
        return
    for name in names:
        pid = name[len(prefix) :].split(".", 1)[0]
        if not pid.isdigit() or int(pid) == os.getpid():
            continue  # not ours to judge; or this process's (another thread's write in progress)
        try:
            os.kill(int(pid), 0)
            continue  # a live writer (or a reused pid): leave it
        except ProcessLookupError:
            pass
        except OSError:
            continue  # someone else's live process
        try:
            os.unlink(os.path.join(directory, name))
        except OSError:
            pass


class locked:  # lower case: it reads as a function, `with locked(path):`
    """Hold a flock on path (a file, created 0600 if missing, or a directory) for a with-block.

    Exclusive for writers, shared for readers; released when the descriptor closes, even if
    the process is killed. FileNotFoundError when path is missing and create is False. With a
    timeout (seconds), Stuck when another process has held it all that time.
    """

    def __init__(self, path: str, exclusive: bool = True, create: bool = True, timeout: float | None = None) -> None:
        self.path, self.exclusive, self.create, self.fd = path, exclusive, create, -1
        self.timeout = timeout

    def __enter__(self) -> locked:
        import fcntl  # a C extension that paths which never lock do without

        flags = os.O_RDONLY | os.O_CLOEXEC
        if self.create:
            make_private_dirs(os.path.dirname(self.path))
            try:
                self.fd = os.open(self.path, flags | os.O_CREAT, 0o600)
            except IsADirectoryError:
                self.fd = os.open(self.path, flags)
        else:
            self.fd = os.open(self.path, flags)
        mode = fcntl.LOCK_EX if self.exclusive else fcntl.LOCK_SH
        try:
            if self.timeout is None:
                fcntl.flock(self.fd, mode)
            else:
                _flock_within(self.fd, mode, self.timeout, self.path)
        except BaseException:
            os.close(self.fd)
            raise
        return self

    def __exit__(self, *exc: object) -> None:
        os.close(self.fd)


def _flock_within(fd: int, mode: int, timeout: float, path: str) -> None:
    """flock, asking again (1 ms apart at first, 50 ms at most): flock itself has no time limit.

    Stuck once the same processes have held the lock for timeout seconds. The wait starts
    again whenever the holders change (a queue of parallel stores is progress, not a stuck
    peer); /proc/locks names them on Linux, elsewhere the whole wait is bounded. A holder that
    died has let go already (its descriptor closed).
    """
    import fcntl
    import time

    status = os.fstat(fd)
    holders = _holders(status)
    deadline, pause = time.monotonic() + timeout, 0.001
    while True:
        try:
            fcntl.flock(fd, mode | fcntl.LOCK_NB)
            return
        except BlockingIOError:
            pass
        now_holding = _holders(status)
        if now_holding is not None and now_holding != holders:
            holders, deadline = now_holding, time.monotonic() + timeout
        left = deadline - time.monotonic()
        if left <= 0:
            from credctl.errors import Stuck

            raise Stuck(
                f"another process holds the lock on {path} and did not let go within {timeout:g} s (is it stuck?)"
            )
        time.sleep(min(pause, left))
        pause = min(pause * 2, 0.05)


def _holders(status: os.stat_result) -> frozenset[str] | None:
    """The pids holding a flock on status's file (waiters are not holders), or None where
    /proc/locks cannot be read."""
    inode = f"{os.major(status.st_dev):02x}:{os.minor(status.st_dev):02x}:{status.st_ino}"
    try:
        with open("/proc/locks", encoding="ascii", errors="replace") as locks:
            return frozenset(fields[4] for fields in map(str.split, locks) if len(fields) > 5 and fields[5] == inode)
    except OSError:
        return None
