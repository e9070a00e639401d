"""credctl's own settings: $XDG_CONFIG_HOME/credctl/settings.json (default ~/.config/credctl).

Small facts credctl remembers between runs, such as which keyring backend this machine uses so
that docker-credential-keyring need not detect it on every call. Deleting the file is safe.
"""

import os

from credctl.gojson import loads
from credctl.paths import home, locked, read_file, write_atomically


def settings_path(environ=os.environ) -> str:
    base = environ.get("XDG_CONFIG_HOME") or os.path.join(home(environ), ".config")
    return os.path.join(base, "credctl", "settings.json")


def load(environ=os.environ) -> dict:
    """The settings, or {} when there are none or the file is not a JSON object; UnsafePath when
    another user controls the file or its folder, or it is a FIFO (never waited on)."""
    try:
        data = read_file(settings_path(environ), private=True)
        settings = loads(data.decode("utf-8")) if data is not None else {}
    except (OSError, ValueError):
        return {}
    return settings if isinstance(settings, dict) else {}


def update(environ=os.environ, **changes: object) -> None:
    """Set (or, with None, remove) settings; locked so concurrent runs keep each other's changes."""
    path = settings_path(environ)
    with locked(path + ".lock", private=True):
        settings = load(environ)
        for key, value in changes.items():
            if value is None:
                settings.pop(key, None)
            else:
                settings[key] = value
        import json  # only to write

        # A symbolic link (a dotfiles-managed settings.json) stays one: its target is rewritten.
        write_atomically(path, (json.dumps(settings, indent=2, sort_keys=True) + "\n").encode(), private=True)
