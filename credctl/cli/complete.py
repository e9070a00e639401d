"""Values for shell completion: the `autocompletion=` callbacks of credctl's options and arguments.

Every TAB runs credctl afresh, so these read their files directly and never fail: a missing,
unreadable or malformed file completes nothing. Each returns
(value, help) pairs; Typer keeps those starting with what was typed, and zsh and fish show the help.
"""

from credctl.errors import CredctlError
from credctl.gojson import JSONError, parse
from credctl.names import PREFIX
from credctl.paths import read_file
from credctl.stores import LOGIN_STORES, program_name


def _json_object(path: str) -> dict:
    try:
        data = parse(read_file(path) or b"{}")  # never waits on a FIFO
    except (OSError, JSONError, CredctlError):
        return {}
    return data if isinstance(data, dict) else {}


def login_stores(incomplete: str) -> list[tuple[str, str]]:
    """Stores for `setup --store` and `migrate --to`."""
    return [(name, program_name(name)) for name in LOGIN_STORES if name.startswith(incomplete)]


def acr_profiles(incomplete: str) -> list[tuple[str, str]]:
    """ACR profile names from credctl's settings, for `acr remove-profile`."""
    from credctl.settings import settings_path

    found = _json_object(settings_path()).get("acr_profiles")
    if not isinstance(found, dict):
        return []
    names = []
    for name, entry in sorted(found.items()):
        registries = entry.get("registries") if isinstance(entry, dict) else None
        shown = ", ".join(str(r) for r in registries) if isinstance(registries, list) else ""
        if name.startswith(incomplete):
            names.append((name, shown or "ACR profile"))
    return names


def mapped_registries(ctx, incomplete: str) -> list[tuple[str, str]]:
    """Registries with a credHelpers entry in the Docker config this run would edit, for `unmap`.

    That config is the one `--config DIR` (parsed already, on the root command), $DOCKER_CONFIG
    or ~/.docker names, as for the command itself.
    """
    from credctl.dockerconfig import ConfigFile, docker_config_path
    from credctl.errors import ConfigError

    config_dir = ctx.find_root().params.get("config") if ctx is not None else None
    try:
        helpers = ConfigFile.read(docker_config_path(str(config_dir) if config_dir else None)).helpers
    except ConfigError:
        return []
    return [
        (registry, PREFIX + helper) for registry, helper in sorted(helpers.items()) if registry.startswith(incomplete)
    ]
