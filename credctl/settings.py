"""credctl's own settings: $XDG_CONFIG_HOME/credctl/settings.json (default ~/.config/credctl).

Small facts credctl remembers between runs, such as which keyring backend this machine uses so
that docker-credential-keyring need not detect it on every call. Deleting the file is safe.
"""

from __future__ import annotations

from credctl.errors import ConfigError
from credctl.gojson import JSONError, encode, parse
from credctl.paths import home, locked, read_file, write_atomically
from credctl.posixfs import ENVIRON, join

TYPE_CHECKING = False  # typing itself is too slow to import on the helper path
if TYPE_CHECKING:
    from collections.abc import Callable


def settings_path(environ=ENVIRON) -> str:
    base = environ.get("XDG_CONFIG_HOME") or join(home(environ), ".config")
    return join(base, "credctl", "settings.json")


def load(environ=ENVIRON) -> dict:
    """The settings, or {} when there are none or the file is not a JSON object; UnsafePath when
    another user controls the file or its folder, or it is a FIFO (never waited on)."""
    try:
        return read_object(settings_path(environ))
    except ConfigError:
        return {}


def read_object(path: str) -> dict:
    """The settings in path ({} for none); ConfigError, one line naming the file, for a file that is not JSON."""
    try:
        data = read_file(path, private=True)  # never waits on a FIFO; refused when others control it
    except OSError as err:
        raise ConfigError(f"cannot read {path}: {err.strerror or err}") from None
    if data is None:
        return {}
    try:
        settings = parse(data, keep_numbers=True) if data.strip() else {}
    except JSONError as err:
        raise ConfigError(f"{path} is not valid JSON ({err}): fix or remove it; credctl never overwrites it") from None
    if not isinstance(settings, dict):
        raise ConfigError(f"{path} must hold a JSON object: fix or remove it")
    return settings


def update(environ=ENVIRON, **changes: object) -> None:
    """Set (or, with None, remove) settings; locked so concurrent runs keep each other's changes.

    Every other value stays as it was (numbers as written); a file that is not JSON is refused."""

    def apply(settings: dict) -> None:
        settings.update(changes)

    change(apply, environ)


def change(edit: Callable[[dict], None], environ=ENVIRON) -> None:
    """Read the settings, let edit change the dict in place (a value set to None is removed),
    write them back: all under the settings' lock, so a read-modify-write never loses another
    run's change. A file that is not JSON is refused (ConfigError), and stays as it is."""
    change_file(settings_path(environ), edit)


def change_file(path: str, edit: Callable[[dict], None]) -> None:
    """change, for one of credctl's JSON-object files at path (settings.json, expiry.json)."""
    with locked(path + ".lock", private=True):
        data = read_object(path)
        edit(data)
        data = {key: value for key, value in data.items() if value is not None}
        # A symbolic link (a dotfiles-managed settings.json) stays one: its target is rewritten.
        write_atomically(path, (encode(dict(sorted(data.items())), "  ") + "\n").encode(), private=True)
