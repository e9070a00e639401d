"""Where credctl keeps its own files, and how it writes them (standard library only)."""

import os


def cache_dir(environ=os.environ) -> str:
    """$XDG_CACHE_HOME/credctl, else ~/.cache/credctl."""
    base = environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return os.path.join(base, "credctl")


def write_private(path: str, data: bytes) -> None:
    """Replace path atomically with data: mode 0600, folder created 0700, never half-written."""
    os.makedirs(os.path.dirname(path), mode=0o700, exist_ok=True)
    temporary = f"{path}.{os.getpid()}.tmp"
    fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_CLOEXEC, 0o600)
    try:
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
