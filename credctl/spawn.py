"""Run a program and collect its output with posix_spawnp.

The helper path uses this instead of subprocess: importing subprocess costs more than the
gpg decryption it would run. Standard library C modules only.
"""

from __future__ import annotations

import _signal
import posix
import time

from credctl.posixfs import join

TYPE_CHECKING = False  # typing itself is too slow to import on the helper path
if TYPE_CHECKING:
    from collections.abc import Mapping

# Python ignores these; a spawned program must get the default behaviour back.
_RESET_SIGNALS = (_signal.SIGPIPE, _signal.SIGXFSZ)
_CHUNK = 65536


class Finished:
    """Exit status and captured output of a program that has ended."""

    __slots__ = ("status", "stderr", "stdout")

    def __init__(self, status: int, stdout: bytes, stderr: bytes) -> None:
        self.status, self.stdout, self.stderr = status, stdout, stderr


def on_path(program: str, env: Mapping[str, str]) -> bool:
    """Whether posix_spawnp would find program on env's PATH."""
    return any(
        posix.access(join(directory or ".", program), posix.X_OK)
        for directory in env.get("PATH", "/bin:/usr/bin").split(":")  # os.defpath
    )


def _pipe() -> tuple[int, int]:
    # If our own fd 0/1/2 were closed, pipe() could hand them out and dup2 onto the same
    # number would keep close-on-exec set; move such fds above 2.
    return tuple(fd if fd > 2 else _move_up(fd) for fd in posix.pipe())  # type: ignore[return-value]


def _move_up(fd: int) -> int:
    import fcntl

    moved = fcntl.fcntl(fd, fcntl.F_DUPFD_CLOEXEC, 3)
    posix.close(fd)
    return moved


def run(
    argv: list[str], input: bytes = b"", env: Mapping[str, str] | None = None, timeout: float | None = None
) -> Finished:
    """Run argv (searched on PATH) with input on stdin; FileNotFoundError if it is not found.

    With a timeout (seconds): when the program has not ended within timeout, or this process is
    interrupted while waiting, the program and every process below it (such as pass's gpg) are
    killed, and TimeoutError (or the interruption) is raised once it has ended. It stays in this
    process's group, so a question gpg asks on the terminal (encrypting to a key of unknown
    trust) still reaches the person at it.
    """
    return start(argv, input, env).finish(timeout)


class Running:
    """A program start() started; finish() collects it (run's rules for input and timeout)."""

    __slots__ = ("err_r", "in_w", "input", "out_r", "pid")

    def __init__(self, pid: int, input: bytes, in_w: int, out_r: int, err_r: int) -> None:
        self.pid, self.input, self.in_w, self.out_r, self.err_r = pid, input, in_w, out_r, err_r

    def finish(self, timeout: float | None = None) -> Finished:
        """Feed the input, collect the output and the exit status, within timeout seconds of now."""
        deadline = None if timeout is None else time.monotonic() + timeout
        try:
            output = _exchange(self.input, self.in_w, self.out_r, self.err_r, deadline)
            wait_status = _reap(self.pid, deadline)
        except BaseException:
            if deadline is not None:
                _kill_tree(self.pid)
            posix.waitpid(self.pid, 0)
            raise
        return Finished(posix.waitstatus_to_exitcode(wait_status), output[self.out_r], output[self.err_r])


def start(argv: list[str], input: bytes | int = b"", env: Mapping[str, str] | None = None) -> Running:
    """argv started (searched on PATH) with stdin and stdout piped to this process; input is the
    bytes for its stdin, or a descriptor it reads instead (this process keeps its own). A
    program that cannot be started raises FileNotFoundError (or the OSError) here."""
    out_r, out_w = _pipe()
    err_r, err_w = _pipe()
    if isinstance(input, int):
        in_r, in_w, data = input, -1, b""
    else:
        in_r, in_w = _pipe()
        data = input
    actions = [
        (posix.POSIX_SPAWN_DUP2, in_r, 0),
        (posix.POSIX_SPAWN_DUP2, out_w, 1),
        (posix.POSIX_SPAWN_DUP2, err_w, 2),
    ]
    if env is None:
        from os import environ as env
    try:
        pid = posix.posix_spawnp(argv[0], argv, env, file_actions=actions, setsigdef=_RESET_SIGNALS)
    except BaseException:
        for fd in (in_w, out_r, err_r):
            if fd >= 0:
                posix.close(fd)
        raise
    finally:
        for fd in (out_w, err_w) if in_w < 0 else (in_r, out_w, err_w):
            posix.close(fd)
    return Running(pid, data, in_w, out_r, err_r)


def _reap(pid: int, deadline: float | None) -> int:
    """pid's wait status once it has ended; TimeoutError if that is not by deadline (a program
    that closed its output but runs on). On Linux a pidfd says when, elsewhere it is polled."""
    if deadline is not None and not _ended_by(pid, deadline):
        raise TimeoutError
    return posix.waitpid(pid, 0)[1]


def _ended_by(pid: int, deadline: float) -> bool:
    import select

    try:
        pidfd = posix.pidfd_open(pid)
    except (AttributeError, OSError):  # not Linux 5.3+
        pidfd = -1
    if pidfd >= 0:
        try:
            poller = select.poll()
            poller.register(pidfd, select.POLLIN)
            return bool(poller.poll(max(0, (deadline - time.monotonic()) * 1000)))
        finally:
            posix.close(pidfd)
    pause = 0.001
    while not posix.waitid(posix.P_PID, pid, posix.WEXITED | posix.WNOHANG | posix.WNOWAIT):
        left = deadline - time.monotonic()
        if left <= 0:
            return False
        time.sleep(min(pause, left))
        pause = min(pause * 2, 0.05)
    return True


def _kill_tree(pid: int) -> None:
    """SIGKILL to pid and every process below it, found through /proc (elsewhere: pid alone).

    Each is stopped as it is found, so none can start another or be reparented away before the
    last look; then all are killed. pid is not reaped yet, so it cannot be another's by now."""
    stopped: list[int] = []
    found = [pid]
    while found:
        for each in found:
            try:
                posix.kill(each, _signal.SIGSTOP)
                stopped.append(each)
            except ProcessLookupError:
                pass
        found = [child for child in _descendants(pid) if child not in stopped]
    for each in stopped:
        try:
            posix.kill(each, _signal.SIGKILL)
        except ProcessLookupError:
            pass
    _wait_gone(stopped[1:], 2.0)  # pid itself is reaped by the caller


def _wait_gone(pids: list[int], limit: float) -> None:
    """Return once every one of pids has ended (gone, or a zombie left to its parent), or after
    limit seconds: a killed process takes a moment to exit, and "nothing left running" must
    hold when the caller goes on."""
    deadline, pause = time.monotonic() + limit, 0.001
    while pids and time.monotonic() < deadline:
        pids = [each for each in pids if _running(each)]
        if pids:
            time.sleep(pause)
            pause = min(pause * 2, 0.02)


def _running(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat", "rb") as file:
            return file.read().rpartition(b")")[2].split()[:1] != [b"Z"]
    except OSError:
        return False  # gone (or no /proc: nothing to wait on)


def _descendants(pid: int) -> list[int]:
    """Every process below pid, by the parents /proc/*/stat names ([] where there is no /proc)."""
    children: dict[int, list[int]] = {}
    try:
        entries = posix.listdir("/proc")
    except OSError:
        return []
    for entry in entries:
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat", "rb") as file:
                fields = file.read().rpartition(b")")[2].split()  # after "pid (comm)", which may hold spaces
        except OSError:
            continue  # ended meanwhile
        if len(fields) > 1:
            children.setdefault(int(fields[1]), []).append(int(entry))
    below, todo = [], [pid]
    while todo:
        for child in children.get(todo.pop(), []):
            below.append(child)
            todo.append(child)
    return below


def _exchange(input: bytes, in_w: int, out_r: int, err_r: int, deadline: float | None) -> dict[int, bytes]:
    """Feed stdin and drain stdout/stderr together, so no pipe can fill up and deadlock;
    TimeoutError when they are not all done by deadline (time.monotonic). Closes the three
    descriptors (in_w is -1 when the program reads a descriptor of its own)."""
    import select  # C extensions load only when a program runs: `list` runs none

    poller = select.poll()
    chunks: dict[int, list[bytes]] = {out_r: [], err_r: []}
    for fd in chunks:
        poller.register(fd, select.POLLIN)
    pending = memoryview(input)
    open_fds = {out_r, err_r}
    if pending:
        posix.set_blocking(in_w, False)
        poller.register(in_w, select.POLLOUT)
        open_fds.add(in_w)
    elif in_w >= 0:
        posix.close(in_w)
    try:
        while open_fds:
            ready = poller.poll(None if deadline is None else max(0, (deadline - time.monotonic()) * 1000))
            if not ready and deadline is not None and time.monotonic() >= deadline:
                raise TimeoutError
            for fd, _event in ready:
                if fd == in_w:
                    try:
                        pending = pending[posix.write(in_w, pending[:_CHUNK]) :]
                    except BlockingIOError:
                        continue
                    except BrokenPipeError:
                        pending = pending[:0]
                    if not pending:
                        poller.unregister(in_w)
                        posix.close(in_w)
                        open_fds.discard(in_w)
                    continue
                data = posix.read(fd, _CHUNK)
                if data:
                    chunks[fd].append(data)
                else:
                    poller.unregister(fd)
                    posix.close(fd)
                    open_fds.discard(fd)
    finally:
        for fd in open_fds:
            posix.close(fd)
    return {fd: b"".join(parts) for fd, parts in chunks.items()}
