"""Console-script entry points.

Each docker-credential-* program goes straight to the protocol (standard library only);
the Typer CLI is imported only when `credctl` itself runs a command for a person. Every entry
first lets credctl.quickimport load credctl's own modules.
"""

import sys

from credctl import quickimport


def _helper(store: str, input: bytes | None = None) -> int:
    quickimport.install()
    from credctl.protocol import serve

    return _end(serve(store, sys.argv[1:], input))


def _end(status: int) -> int:
    """End a helper process with status as soon as its answer is out, without the interpreter's
    teardown (freeing every module and object: a third of a helper's own instructions, and
    nothing it needs). Only where teardown has nothing to do: stdout and stderr flushed, no
    atexit hook, no thread but daemons; otherwise status is returned for sys.exit."""
    import atexit
    import posix

    try:
        sys.stdout.flush()
        sys.stderr.flush()
    except (AttributeError, OSError, ValueError):  # closed, or None after a broken pipe
        return status
    threading = sys.modules.get("threading")
    if atexit._ncallbacks() or (threading is not None and _running_threads(threading)):
        return status
    posix._exit(status)


def _running_threads(threading) -> bool:
    """Whether a thread other than the main one and daemons runs (interpreter exit waits for it)."""
    return any(not thread.daemon for thread in threading.enumerate() if thread is not threading.main_thread())


def pass_main() -> int:
    quickimport.install()
    if sys.argv[1:] == ["get"]:
        # gpg decrypts while the protocol and the store load: most of a get's time, overlapped.
        from credctl.stores.passread import start_early

        return _helper("pass", start_early())
    return _helper("pass")


def secretservice_main() -> int:
    return _helper("secretservice")


def keyring_main() -> int:
    return _helper("keyring")


def acr_main() -> int:
    return _helper("acr")


def credctl_main() -> int:
    quickimport.install()
    if sys.argv[1:] == ["get"]:
        # the route is decided first; where it is pass, gpg decrypts while the rest loads
        from credctl.routes import start_early

        return _helper("credctl", start_early())
    return _helper("credctl")


def kubelet_main() -> int:
    quickimport.install()
    from credctl.kubelet import serve

    return _end(serve(sys.argv[1:]))


def main() -> int:
    import posix

    quickimport.install()
    if b"_CREDCTL_COMPLETE" in posix.environ:
        answered = _quick_completion(posix.environ)
        if answered is not None:
            return answered
    args = sys.argv[1:]
    if args == ["--version"]:
        from credctl import __version__

        sys.stdout.write(f"credctl {__version__}\n")
        return 0
    if args in (["--help"], ["-h"]):
        from credctl import roothelp  # what the Typer app prints, generated from it

        if _terminal_columns() >= roothelp.COLUMNS:
            sys.stdout.write(roothelp.TEXT)
            return 0
    if args[:2] == ["helper", "kubelet"]:
        # `credctl helper kubelet`: the kubelet plugin, as credctl-kubelet-provider.
        from credctl.kubelet import serve

        return _end(serve(args[2:]))
    if args[:1] == ["helper"]:
        # `credctl helper STORE ACTION`: the same protocol, hidden from --help, kept fast.
        from credctl.errors import UnknownStore
        from credctl.protocol import serve

        if len(args) < 2:
            sys.stderr.write("Usage: credctl helper STORE <store|get|erase|list|version> | credctl helper kubelet\n")
            return 2
        try:
            return _end(serve(args[1], args[2:]))
        except UnknownStore as err:
            sys.stderr.write(f"credctl helper: {err}\n")
            return 2
    return _admin_cli()


def _quick_completion(environ) -> int | None:
    """A TAB after command names only, answered from the generated table; None for the app."""
    from credctl.quickcomplete import PROGRAM, answer

    found = answer(environ) if sys.argv[0].rpartition("/")[2] == PROGRAM else None
    if found is None:
        return None
    text, status = found
    sys.stdout.write(text)
    return _end(status)


def _terminal_columns() -> int:
    """The width click formats help for: shutil.get_terminal_size's columns (COLUMNS, else the
    terminal on stdout, else 80), without importing shutil."""
    import os

    try:
        columns = int(os.environ.get("COLUMNS", ""))
    except ValueError:
        columns = 0
    if columns <= 0:
        try:
            columns = os.get_terminal_size(sys.__stdout__.fileno()).columns
        except (AttributeError, ValueError, OSError):
            columns = 0
    return columns if columns > 0 else 80


class _Interrupted(BaseException):
    """Ctrl-C in the admin CLI. Not a KeyboardInterrupt, which click turns into "Aborted!" (at a
    prompt) or a silent exit: it unwinds every `finally` and `with` as that would, up to here."""


def _interrupt(signum: int, frame: object) -> None:
    raise _Interrupted


def _admin_cli() -> int:
    """`credctl COMMAND`; Ctrl-C anywhere ends the line it left and exits 130, as a shell does."""
    import signal

    signal.signal(signal.SIGINT, _interrupt)
    try:
        from credctl.cli import run

        return run()
    except _Interrupted:
        signal.signal(signal.SIGINT, signal.SIG_IGN)  # a second Ctrl-C must not interrupt the goodbye
        sys.stderr.write("\n")
        sys.stderr.flush()
        return 130
