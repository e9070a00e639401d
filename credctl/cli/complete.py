"""Shell completion: the `autocompletion=` callbacks of credctl's options and arguments, and how
zsh and fish are sent each offer's help.

Every TAB runs credctl afresh, so the callbacks read their files directly and never fail: a
missing, unreadable or malformed file completes nothing. Each returns (value, help) pairs; Typer
keeps those starting with what was typed, and zsh and fish show the help.
"""

from typer._click.shell_completion import CompletionItem, add_completion_class
from typer._completion_classes import FishComplete, ZshComplete

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


# -- how zsh and fish get each offer --------------------------------------------------------
# Typer renders a help through rich, which wraps it at the terminal's width: the newlines split
# one fish offer into several (each line a value of its own) and break zsh's list. Here a help is
# one line whatever the terminal, so an answer depends on the app alone (credctl.quickcomplete
# gives it from a table); values and quoting are Typer's.


def _one_line(text: str) -> str:
    return " ".join(text.split())


def _zsh_quoted(text: str) -> str:
    """text inside the double quotes of zsh's `_arguments '*: :(("value":"help"))'`, as Typer quotes it."""
    for raw, quoted in (('"', '""'), ("'", "''"), ("$", "\\$"), ("`", "\\`"), (":", "\\\\:")):
        text = text.replace(raw, quoted)
    return text


class ZshOffers(ZshComplete):
    def format_completion(self, item: CompletionItem) -> str:
        value = f'"{_zsh_quoted(item.value)}"'
        return f'{value}:"{_zsh_quoted(_one_line(item.help))}"' if item.help else value


class FishOffers(FishComplete):
    def format_completion(self, item: CompletionItem) -> str:
        return f"{item.value}\t{_one_line(item.help)}" if item.help else f"{item.value}"


def use_one_line_help() -> None:
    """Answer zsh's and fish's TABs with the classes above (Typer registers its own on import)."""
    add_completion_class(ZshOffers, "zsh")
    add_completion_class(FishOffers, "fish")
